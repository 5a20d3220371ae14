"""Option 1 through the API: a death recorded, the look-up on both histories, an estate
with all heirs (one without an account yet), the transfer, the heirs' downloads and
copies, the reminders, and the erasure 24 months after death."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from kluis.audit import HistoryEvent
from succession.models import SuccessionTimer
from tests.support.contacts import become_contacts
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.succession import (
    lookup,
    open_estate,
    record_death,
    set_heirs,
    sweep,
    transfer,
)
from tests.support.vault import upload
from tests.support.world import EMMA, LUCAS
from vault.models import Document


async def actions(server, subject_id: str) -> list[str]:
    async with server.sessions() as db:
        rows = await db.scalars(
            select(HistoryEvent.action)
            .where(HistoryEvent.subject_id == subject_id)
            .order_by(HistoryEvent.seq)
        )
        return list(rows)


async def test_a_transfer_through_a_notary_reaches_every_heir_until_the_erasure(
    server, platform, jan, marie, notary, office_id
):
    me = (await jan.get("/api/v1/me")).json()
    assert me["succession_option"] == 1  # the default
    first = (await upload(jan, "testament.pdf", b"%PDF-1.4 the will\n%%EOF")).json()
    await upload(jan, "photos.txt", b"holiday pictures list")
    # A document Marie shares with Jan is hers: it does not pass to Jan's heirs.
    mine, theirs = await become_contacts(server, marie, jan)
    shared = (await upload(marie, "marie.txt", b"Marie's own")).json()
    response = await marie.post(
        f"/api/v1/documents/{shared['id']}/shares",
        json={"contact_id": mine, "when": "now"},
        headers=csrf(marie),
    )
    assert response.status_code == 201, response.text

    notice = await record_death(notary, JAN)
    assert notice.status_code == 201, notice.text
    assert notice.json()["status"] == "awaiting-notary"
    # Jan's session ended with the notice.
    assert (await jan.get("/api/v1/me")).status_code == 401

    found = await lookup(notary, JAN)
    assert found.status_code == 200, found.text
    assert found.json()["vault_exists"] is True
    assert found.json()["option"] == 1
    assert found.json()["status"] == "awaiting-notary"

    estate = await open_estate(notary, JAN)
    assert estate.status_code == 201, estate.text
    estate_id = estate.json()["id"]
    # Emma has never logged in: she receives it at her first login.
    heirs = await set_heirs(notary, estate_id, [MARIE, EMMA])
    assert heirs.status_code == 200, heirs.text
    assert [h["name"] for h in heirs.json()["heirs"]] == ["Marie Dubois", None]
    done = await transfer(notary, estate_id)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "transferred"
    assert (await transfer(notary, estate_id)).status_code == 409

    inheritances = (await marie.get("/api/v1/inheritances")).json()
    assert len(inheritances) == 1
    assert inheritances[0]["deceased"] == "Jan Peeters"
    names = sorted(d["name"] for d in inheritances[0]["documents"])
    assert names == ["photos.txt", "testament.pdf"]  # not marie.txt, which Jan only received
    inheritance_id = inheritances[0]["id"]
    content = await marie.get(
        f"/api/v1/inheritances/{inheritance_id}/documents/{first['id']}/content"
    )
    assert content.status_code == 200
    assert content.content == b"%PDF-1.4 the will\n%%EOF"
    copied = await marie.post(
        f"/api/v1/inheritances/{inheritance_id}/documents/{first['id']}/copy",
        headers=csrf(marie),
    )
    assert copied.status_code == 201, copied.text

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as emma:
        await login(emma, login_hint=EMMA)
        theirs = (await emma.get("/api/v1/inheritances")).json()
        assert [i["deceased"] for i in theirs] == ["Jan Peeters"]
        emma_id = (await emma.get("/api/v1/me")).json()["id"]
    # Someone who is no heir sees nothing, and cannot reach the documents.
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as lucas:
        await login(lucas, login_hint=LUCAS)
        assert (await lucas.get("/api/v1/inheritances")).json() == []
        denied = await lucas.get(
            f"/api/v1/inheritances/{inheritance_id}/documents/{first['id']}/content"
        )
        assert denied.status_code == 404

    marie_id = (await marie.get("/api/v1/me")).json()["id"]
    jan_actions = await actions(server, me["id"])
    for action in (
        "succession:death:recorded",
        "succession:lookup",
        "succession:estate:opened",
        "succession:estate:heirs",
        "succession:estate:transferred",
        "succession:inheritance:downloaded",
        "succession:inheritance:copied",
    ):
        assert action in jan_actions
    office_actions = await actions(server, office_id)
    assert "succession:lookup" in office_actions
    assert "succession:estate:transferred" in office_actions
    assert "succession:inheritance:received" in await actions(server, marie_id)

    # Reminders: 12 months, 3 months, 1 month and a week before the erasure.
    async with server.sessions() as db:
        labels = sorted(
            t.label
            for t in await db.scalars(
                select(SuccessionTimer).where(SuccessionTimer.kind == "reminder")
            )
        )
    assert labels == ["12m", "1m", "1w", "3m"]
    report = await sweep(platform, months=12, days=1)
    assert report.done == {"safeguard": 1, "reminder": 1}
    assert "succession:inheritance:reminded" in await actions(server, marie_id)
    assert "succession:inheritance:reminded" in await actions(server, emma_id)

    # Month 23: everything is still there, and a sweep that catches up on the 3-month and
    # 1-month reminders sends only the latest; month 24: erased for everyone, no reminder.
    report = await sweep(platform, months=23)
    assert report.done == {"superseded": 1, "reminder": 1}
    assert len((await marie.get("/api/v1/inheritances")).json()) == 1
    report = await sweep(platform, months=24)
    assert report.done == {"superseded": 1, "erase": 1}
    reminded = (await actions(server, marie_id)).count("succession:inheritance:reminded")
    assert reminded == 2
    assert report.destroyed == 2
    assert (await marie.get("/api/v1/inheritances")).json() == []
    async with server.sessions() as db:
        left = await db.scalars(select(Document.name).where(Document.owner_id == me["id"]))
        assert list(left) == []
    # Marie's copy is hers now, and stays.
    assert (await marie.get(f"/api/v1/documents/{copied.json()['id']}/content")).status_code == 200
    assert "succession:vault:erased" in await actions(server, me["id"])
