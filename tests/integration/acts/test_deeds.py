"""The deed registry over real HTTP: an office publishes a deed (metadata, then the PDF),
its parties see it under "My deeds", and nobody else finds it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from acts.models import Deed, DeedParty
from idp_bridge.models import Notification
from kluis.audit import HistoryEvent
from tests.support import files
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.vault import document_rows, fragments
from tests.support.world import EMMA, LUCAS, OFFICE_B_STAFF, register_other_office

PDF = files.pdf(b"Akte van verkoop, verleden voor notaris Claes")


def deed_form(**changes) -> dict[str, object]:
    fields: dict[str, object] = {
        "registry_number": "2024/0117",
        "kind": "sale",
        "date": "2024-03-15",
        "party": [JAN, MARIE],
    }
    return {k: v for k, v in (fields | changes).items() if v is not None}


async def publish(client, office_id: str, upload=("akte.pdf", PDF, "application/pdf"), **changes):
    """As an office's software would: the fields, then the PDF (an empty file input when
    `upload` has no name)."""
    return await client.post(
        f"/api/v1/offices/{office_id}/deeds",
        data=deed_form(**changes),
        files={"file": upload},
        headers=csrf(client),
    )


async def counts(server) -> tuple[int, int, int, int]:
    """Deeds, their parties, documents and stored fragments."""
    async with server.sessions() as db:
        deeds = await db.scalar(select(func.count()).select_from(Deed))
        parties = await db.scalar(select(func.count()).select_from(DeedParty))
    return deeds or 0, parties or 0, await document_rows(server), len(fragments(server))


async def history(client) -> list[dict]:
    return (await client.get("/api/v1/history")).json()["events"]


@pytest.fixture
async def emma(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await login(client, login_hint=EMMA)
        yield client


async def test_both_parties_see_the_deed_the_notary_published(
    server, jan, marie, emma, notary, office_id
):
    used_before = (await jan.get("/api/v1/usage")).json()

    published = await publish(notary, office_id, party=[JAN, MARIE, JAN])

    assert published.status_code == 201, published.text
    deed = published.json()
    assert JAN not in published.text and MARIE not in published.text
    assert (deed["registry_number"], deed["kind"], deed["date"], deed["parties"]) == (
        "2024/0117",
        "sale",
        "2024-03-15",
        2,  # Jan named twice is one party
    )
    assert deed["seal"] == {"office": "Notaris Claes", "verified": True}
    assert deed["published_by"] == "Sophie Claes"
    for party in (jan, marie):
        mine = (await party.get("/api/v1/deeds")).json()
        assert [(d["id"], d["office"], d["sha256"], d["parties"]) for d in mine] == [
            (deed["id"], "Notaris Claes", hashlib.sha256(PDF).hexdigest(), 2)
        ]
        shown = await party.get(f"/api/v1/deeds/{deed['id']}")
        assert shown.status_code == 200 and JAN not in shown.text
        content = await party.get(f"/api/v1/deeds/{deed['id']}/content")
        assert content.content == PDF
        assert content.headers["content-type"] == "application/pdf"
        assert content.headers["x-kluis-seal"] == "verified"
        actions = [e["action"] for e in await history(party)]
        assert {"acts:deed:published", "acts:deed:viewed", "acts:deed:downloaded"} <= set(actions)
    ranged = await jan.get(f"/api/v1/deeds/{deed['id']}/content", headers={"range": "bytes=0-7"})
    assert (ranged.status_code, ranged.content) == (206, PDF[:8])

    # Nobody else finds it; it is in nobody's vault and uses nobody's quota.
    assert (await emma.get("/api/v1/deeds")).json() == []
    for path in ("", "/content"):
        assert (await emma.get(f"/api/v1/deeds/{deed['id']}{path}")).status_code == 404
    assert (await jan.get("/api/v1/documents")).json() == []
    assert (await jan.get("/api/v1/usage")).json() == used_before
    listed = (await notary.get(f"/api/v1/offices/{office_id}/deeds")).json()
    assert [d["id"] for d in listed] == [deed["id"]]
    async with server.sessions() as db:
        notified = (await db.scalars(select(Notification).where(Notification.kind == "deed"))).all()
    assert {n.link for n in notified} == {f"/deeds/{deed['id']}"} and len(notified) == 2


async def test_the_office_history_records_publication_and_every_view(
    server, jan, notary, office_id, platform
):
    deed = (await publish(notary, office_id, party=[JAN])).json()
    await jan.get(f"/api/v1/deeds/{deed['id']}")
    await jan.get(f"/api/v1/deeds/{deed['id']}/content")

    async with server.sessions() as db:
        rows = await db.execute(
            select(HistoryEvent.action, HistoryEvent.actor_label).where(
                HistoryEvent.subject_id == uuid.UUID(office_id),
                HistoryEvent.action.like("acts:deed:%"),
            )
        )
        found = sorted(rows.all())
    assert found == [
        ("acts:deed:downloaded", "Jan Peeters"),
        ("acts:deed:published", "Sophie Claes"),
        ("acts:deed:viewed", "Jan Peeters"),
    ]


async def test_a_party_who_logs_in_later_finds_the_deed(server, notary, office_id):
    deed = (await publish(notary, office_id, party=[LUCAS])).json()

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as lucas:
        await login(lucas, login_hint=LUCAS)
        mine = (await lucas.get("/api/v1/deeds")).json()

        assert [d["id"] for d in mine] == [deed["id"]]
        assert (await lucas.get(f"/api/v1/deeds/{deed['id']}/content")).content == PDF


async def test_staff_publish_too_and_deeds_come_newest_first(server, jan, staff, office_id):
    for number, day in (("A-1", "2016-05-01"), ("A-2", "2023-11-30"), ("A-3", "2015-01-01")):
        published = await publish(staff, office_id, registry_number=number, date=day, party=[JAN])
        assert published.status_code == 201, published.text

    mine = (await jan.get("/api/v1/deeds")).json()

    assert [d["registry_number"] for d in mine] == ["A-2", "A-1", "A-3"]


@pytest.mark.parametrize(
    ("changes", "status", "kind"),
    [
        ({"party": [JAN, "85073003329"]}, 422, "nrn-invalid"),
        ({"party": []}, 422, "deed-parties-missing"),
        ({"enterprise_number": "0403170702"}, 422, "enterprise-number-invalid"),
        ({"date": (date.today() + timedelta(days=2)).isoformat()}, 422, "deed-date-in-future"),
        ({"date": "2014-12-31"}, 422, "deed-date-out-of-range"),
        ({"date": "15/03/2024"}, 422, "deed-date-invalid"),
        ({"kind": "private-agreement"}, 422, "deed-kind-unknown"),
        ({"registry_number": " "}, 422, "deed-registry-number-missing"),
        ({"upload": ("", b"", "application/octet-stream")}, 422, "deed-file-missing"),
        ({"upload": ("akte.pdf", files.png(), "application/pdf")}, 415, "deed-not-pdf"),
        ({"upload": ("akte.txt", b"geen pdf\n", "text/plain")}, 415, "deed-not-pdf"),
        ({"upload": ("akte.exe", b"MZ\x90\x00", "application/octet-stream")}, 415, "deed-not-pdf"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    server, jan, notary, office_id, changes, status, kind
):
    before = await counts(server)

    refused = await publish(notary, office_id, **changes)

    assert (refused.status_code, refused.json()["type"]) == (status, kind), refused.text
    assert await counts(server) == before
    assert (await jan.get("/api/v1/deeds")).json() == []


async def test_a_registry_number_is_published_once_per_office(server, jan, notary, office_id):
    assert (await publish(notary, office_id)).status_code == 201
    before = await counts(server)

    again = await publish(notary, office_id, party=[JAN])

    assert (again.status_code, again.json()["type"]) == (409, "deed-exists")
    assert await counts(server) == before


async def test_another_office_cannot_publish_for_this_one(server, platform, jan, office_id):
    await register_other_office(platform)
    before = await counts(server)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as other_staff:
        await login(other_staff, login_hint=OFFICE_B_STAFF)

        refused = await publish(other_staff, office_id)
        listed = await other_staff.get(f"/api/v1/offices/{office_id}/deeds")

    assert (refused.status_code, refused.json()["type"]) == (404, "office-not-found")
    assert listed.status_code == 404
    assert await counts(server) == before
    # A citizen is no member either.
    assert (await publish(jan, office_id)).status_code == 404
    assert await counts(server) == before


async def test_the_web_form_publishes_and_the_party_sees_it(server, jan, notary, office_id):
    page = await notary.get(f"/offices/{office_id}/deeds")
    assert 'enctype="multipart/form-data"' in page.text
    form = {
        "_csrf_token": notary.cookies["csrftoken"],
        "registry_number": "2024/0200",
        "kind": "mortgage",
        "date": "2024-04-02",
        "enterprise_number": "",
        "parties": f"{JAN}\n{MARIE}\n",
    }

    posted = await notary.post(
        f"/offices/{office_id}/deeds", data=form, files={"file": ("scan.pdf", PDF)}
    )

    assert posted.status_code == 303, posted.text
    shown = await notary.get(posted.headers["location"])
    assert "2024/0200" in shown.text and 'id="deed-published"' in shown.text
    mine = await jan.get("/deeds")
    assert "2024/0200" in mine.text and "Notaris Claes" in mine.text
    deed_id = (await jan.get("/api/v1/deeds")).json()[0]["id"]
    assert "badge ok seal" in (await jan.get(f"/deeds/{deed_id}")).text

    # Refused, the form comes back with the reason and what was typed; nothing is stored.
    before = await counts(server)
    again = await notary.post(
        f"/offices/{office_id}/deeds",
        data=form | {"registry_number": "2024/0201", "date": "2013-01-01"},
        files={"file": ("scan.pdf", PDF)},
    )
    assert again.status_code == 422 and 'id="deed-error"' in again.text
    assert 'value="2024/0201"' in again.text
    assert await counts(server) == before
    not_pdf = await notary.post(
        f"/offices/{office_id}/deeds",
        data=form | {"registry_number": "2024/0201"},
        files={"file": ("scan.pdf", files.png())},
    )
    assert not_pdf.status_code == 415 and 'id="deed-error"' in not_pdf.text
    assert await counts(server) == before
    # Without the form's token, nothing happens either.
    forged = await notary.post(
        f"/offices/{office_id}/deeds",
        data=form | {"_csrf_token": "x", "registry_number": "2024/0202"},
        files={"file": ("scan.pdf", PDF)},
    )
    assert forged.status_code == 403
    assert await counts(server) == before
