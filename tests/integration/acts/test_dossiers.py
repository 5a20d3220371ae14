"""Dossiers over real HTTP: an office opens one for Jan, publishes documents on its tabs;
Jan sees it with what he has not read yet, delivers a document; strangers find nothing."""

from __future__ import annotations

import os

from sqlalchemy import func, select

from acts.models import Company, Dossier
from tests.support import files
from tests.support.dossiers import open_dossier, post_document
from tests.support.login import JAN, MARIE, csrf
from tests.support.offices import member
from tests.support.world import OFFICE_B_STAFF, register_other_office


async def dossier_rows(server) -> int:
    async with server.sessions() as db:
        return await db.scalar(select(func.count()).select_from(Dossier)) or 0


async def test_the_office_opens_a_dossier_and_jan_sees_it(server, jan, notary, office_id):
    opened = await open_dossier(notary, office_id)

    assert opened.status_code == 201, opened.text
    dossier = opened.json()
    assert (dossier["side"], dossier["progress"], dossier["clients"]) == (
        "office",
        "1 / 2",
        ["Jan Peeters"],
    )
    mine = (await jan.get("/api/v1/dossiers")).json()
    assert [(d["reference"], d["office"], d["side"], d["progress"]) for d in mine] == [
        ("2026/0042", "Notaris Claes", "client", "1 / 2")
    ]
    assert mine[0]["clients"] == []  # other clients' identities are the office's business
    assert (await jan.get("/api/v1/dossiers", params={"q": "woning"})).json()[0]["id"] == (
        dossier["id"]
    )
    assert (await jan.get("/api/v1/dossiers", params={"q": "garage"})).json() == []
    assert (await jan.get("/api/v1/dossiers", params={"status": "closed"})).json() == []
    history = (await jan.get("/api/v1/history")).json()["events"]
    assert "acts:dossier:opened" in [e["action"] for e in history]


async def test_documents_on_the_tabs_and_unread_counts(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]
    data = files.pdf(os.urandom(50_000))

    published = await post_document(notary, dossier, "Ontwerpakte.pdf", data, "documents")
    await post_document(notary, dossier, "Brief.pdf", files.pdf(), "correspondence")

    assert published.status_code == 201, published.text
    assert published.json()["seal"]["verified"] is True
    unread = (await jan.get(f"/api/v1/dossiers/{dossier}")).json()["unread"]
    assert unread == {"correspondence": 1, "documents": 1, "delivered": 0, "messages": 0}
    listed = await jan.get(f"/api/v1/dossiers/{dossier}/documents", params={"tab": "documents"})
    assert [d["name"] for d in listed.json()] == ["Ontwerpakte.pdf"]
    content = await jan.get(
        f"/api/v1/dossiers/{dossier}/documents/{published.json()['id']}/content"
    )
    assert content.content == data
    assert content.headers["x-kluis-seal"] == "verified"
    unread = (await jan.get(f"/api/v1/dossiers/{dossier}")).json()["unread"]
    assert unread == {"correspondence": 1, "documents": 0, "delivered": 0, "messages": 0}

    # Jan delivers: whatever tab he names, it lands on "delivered".
    delivered = await post_document(jan, dossier, "Loonbrief.pdf", files.pdf(), "documents")
    assert (delivered.status_code, delivered.json()["tab"]) == (201, "delivered"), delivered.text
    office_view = (await notary.get(f"/api/v1/dossiers/{dossier}")).json()
    assert office_view["unread"]["delivered"] == 1
    assert "acts:dossier:document-added" in [
        e["action"] for e in (await jan.get("/api/v1/history")).json()["events"]
    ]


async def test_bad_input_is_refused_and_changes_nothing(server, jan, notary, office_id):
    assert (await open_dossier(notary, office_id)).status_code == 201
    cases = {
        "duplicate reference": ({}, 409, "dossier-reference-taken"),
        "invalid NRN": ({"reference": "X1", "clients": ["85073003329"]}, 422, "nrn-invalid"),
        "nobody": ({"reference": "X2", "clients": []}, 422, "dossier-clients-missing"),
        "bad status": ({"reference": "X3", "status": "lost"}, 422, "dossier-status-invalid"),
        "bad company": (
            {"reference": "X4", "clients": [], "company": {"enterprise_number": "0403170702"}},
            422,
            "enterprise-number-invalid",
        ),
        "new company without main": (
            {"reference": "X5", "clients": [], "company": {"enterprise_number": "0403170701"}},
            422,
            "company-incomplete",
        ),
    }
    for name, (extra, status, kind) in cases.items():
        body = {"reference": "2026/0042", **extra}
        refused = await open_dossier(notary, office_id, **body)
        assert (refused.status_code, refused.json()["type"]) == (status, kind), name
    assert await dossier_rows(server) == 1
    # A client sees the dossier but may not change it.
    dossier = (await jan.get("/api/v1/dossiers")).json()[0]["id"]
    patched = await jan.patch(
        f"/api/v1/dossiers/{dossier}", json={"status": "closed"}, headers=csrf(jan)
    )
    assert (patched.status_code, patched.json()["type"]) == (403, "office-only")
    # A client's upload of a forbidden type is refused, and nothing stays.
    refused = await post_document(jan, dossier, "script.exe", b"MZ\x90\x00")
    assert refused.status_code == 415


async def test_the_office_updates_status_and_steps(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]

    patched = await notary.patch(
        f"/api/v1/dossiers/{dossier}",
        json={"status": "waiting_for_client", "steps": [{"label": "A", "done": True}] * 4},
        headers=csrf(notary),
    )

    assert patched.status_code == 200, patched.text
    seen = (await jan.get(f"/api/v1/dossiers/{dossier}")).json()
    assert (seen["status"], seen["progress"]) == ("waiting_for_client", "4 / 4")


async def test_strangers_find_nothing(server, platform, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]
    document = (await post_document(notary, dossier, "Akte.pdf", files.pdf(), "documents")).json()
    await register_other_office(platform)
    paths = [
        f"/api/v1/dossiers/{dossier}",
        f"/api/v1/dossiers/{dossier}/documents",
        f"/api/v1/dossiers/{dossier}/messages",
        f"/api/v1/dossiers/{dossier}/documents/{document['id']}/content",
        f"/dossiers/{dossier}",
    ]
    for nrn in (MARIE, OFFICE_B_STAFF):
        async with member(server, nrn) as stranger:
            for path in paths:
                assert (await stranger.get(path)).status_code == 404, (nrn, path)
            assert (await stranger.get("/api/v1/dossiers")).json() == []


async def test_a_dossier_for_a_company(server, jan, notary, office_id):
    opened = await open_dossier(
        notary,
        office_id,
        clients=[],
        company={"enterprise_number": "0203.201.340", "name": "Peeters BV", "main_nrn": JAN},
    )

    assert opened.status_code == 201, opened.text
    assert opened.json()["company"]["name"] == "Peeters BV"
    assert [d["reference"] for d in (await jan.get("/api/v1/dossiers")).json()] == ["2026/0042"]
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Company)) == 1
