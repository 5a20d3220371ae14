"""Death notices and their safeguards: bad notices refused, a notice withdrawn in time (and
not after), voided by the person's own eID/itsme login (notaries alerted), a weaker login
refused, the frozen vault, and look-ups recorded on both sides even for the living."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import select, update

from idp_bridge import make_nrn
from kluis.audit import Actor, HistoryEvent
from succession.models import DeathNotice
from tests.support.contacts import become_contacts
from tests.support.login import JAN, MARIE, NOTARY, choose, csrf, login
from tests.support.succession import (
    lookup,
    open_estate,
    record_death,
    set_heirs,
    sweep,
    transfer,
)
from tests.support.vault import upload
from vault.domain import VaultFrozen
from vault.models import Document


async def history(server, subject_id: str) -> list[HistoryEvent]:
    async with server.sessions() as db:
        query = select(HistoryEvent).where(HistoryEvent.subject_id == subject_id)
        return list(await db.scalars(query.order_by(HistoryEvent.seq)))


async def nothing_recorded(server) -> None:
    async with server.sessions() as db:
        assert list(await db.scalars(select(DeathNotice))) == []


async def test_bad_notices_are_refused_and_change_nothing(server, jan, notary, staff, marie):
    today = datetime.now(UTC).date()
    cases = [
        ({"nrn": "85073003329"}, 422, "nrn-invalid"),
        ({"nrn": make_nrn(date(1950, 1, 1), 77)}, 404, "person-unknown"),
        ({"date_of_death": (today + timedelta(days=1)).isoformat()}, 422, "date-of-death-invalid"),
        ({"date_of_death": "1984-01-01"}, 422, "date-of-death-invalid"),  # Jan: born 1985
        ({"reference": "  "}, 422, "reference-invalid"),
    ]
    for change, status, problem in cases:
        body = {"nrn": JAN, "date_of_death": today.isoformat(), "reference": "AKTE-1", **change}
        response = await notary.post("/api/v1/death-notices", json=body, headers=csrf(notary))
        assert (response.status_code, response.json()["type"]) == (status, problem), change
    # Only a notary: staff and citizens are refused, anonymous callers must log in.
    assert (await record_death(staff, JAN)).json()["type"] == "notary-only"
    assert (await record_death(marie, JAN)).status_code == 403
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        await anonymous.get("/")
        assert (await record_death(anonymous, JAN)).status_code == 401
    await nothing_recorded(server)
    assert (await jan.get("/api/v1/me")).status_code == 200  # still logged in

    assert (await record_death(notary, JAN)).status_code == 201
    second = await record_death(notary, JAN)
    assert (second.status_code, second.json()["type"]) == (409, "death-recorded")


async def test_a_notice_freezes_the_vault_and_a_weaker_login_is_refused(server, jan, notary):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    assert (await record_death(notary, JAN)).status_code == 201
    assert (await jan.get("/api/v1/me")).status_code == 401
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as weak:
        refused = await choose(weak, JAN, level="substantial", provider="fas")
        assert refused.status_code == 403
        assert (await weak.get("/api/v1/me")).status_code == 401
    async with server.sessions() as db:
        notice = await db.scalar(select(DeathNotice))
        assert notice.status == "awaiting-notary"
    events = await history(server, jan_id)
    refusals = [e.detail["reason"] for e in events if e.action == "idp:login:refused"]
    assert refusals == ["death-recorded"]
    ended = [e.detail["reason"] for e in events if e.action == "idp:session:ended"]
    assert ended == ["death-recorded"]


async def test_the_persons_own_login_voids_the_notice_and_alerts_the_notaries(
    server, platform, jan, marie, notary, office_id
):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    await upload(jan, "mine.txt", b"still mine")
    patched = await jan.patch(
        "/api/v1/me", json={"preferred_office_id": office_id}, headers=csrf(jan)
    )
    assert patched.status_code == 200, patched.text
    assert (await record_death(notary, JAN)).status_code == 201
    estate_id = (await open_estate(notary, JAN)).json()["id"]
    await set_heirs(notary, estate_id, [MARIE])
    assert (await transfer(notary, estate_id)).status_code == 200
    assert len((await marie.get("/api/v1/inheritances")).json()) == 1

    # Jan is alive: he logs in with itsme (high assurance).
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as alive:
        await login(alive, login_hint=JAN)
        me = await alive.get("/api/v1/me")
        assert me.status_code == 200
        assert [d["name"] for d in (await alive.get("/api/v1/documents")).json()] == ["mine.txt"]
        assert (await upload(alive, "new.txt", b"the vault is open again")).status_code == 201

    async with server.sessions() as db:
        notice = await db.scalar(select(DeathNotice))
        assert (notice.status, notice.end_reason) == ("voided", "person-logged-in")
    assert (await marie.get("/api/v1/inheritances")).json() == []
    # Every pending step stopped: no sweep destroys anything, ever.
    report = await sweep(platform, months=25)
    assert report.done == {}
    async with server.sessions() as db:
        left = await db.scalars(select(Document.name).where(Document.owner_id == jan_id))
        assert sorted(left) == ["mine.txt", "new.txt"]
    office_actions = [e.action for e in await history(server, office_id)]
    assert "succession:death:voided" in office_actions
    alerts = (await notary.get("/api/v1/notifications")).json()
    # In Sophie's language (Dutch), linking to her office's succession desk.
    assert any(
        n["kind"] == "succession" and "vervallen" in n["text"] and office_id in n["link"]
        for n in alerts
    )
    marie_id = (await marie.get("/api/v1/me")).json()["id"]
    assert "succession:inheritance:withdrawn" in [e.action for e in await history(server, marie_id)]


async def test_a_notary_withdraws_a_wrong_notice_within_ten_days_only(
    server, platform, jan, notary
):
    notice = (await record_death(notary, JAN)).json()
    url = f"/api/v1/death-notices/{notice['id']}/withdraw"
    missing = await notary.post(url, json={"reason": ""}, headers=csrf(notary))
    assert missing.json()["type"] == "reason-required"
    withdrawn = await notary.post(url, json={"reason": "wrong person"}, headers=csrf(notary))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    again = await notary.post(url, json={"reason": "again"}, headers=csrf(notary))
    assert again.status_code == 404
    assert (await sweep(platform, days=11)).done == {}
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as back:
        await login(back, login_hint=JAN)
        assert (await back.get("/api/v1/me")).status_code == 200

    # A second notice, eleven days old: too late to withdraw it.
    notice = (await record_death(notary, JAN)).json()
    async with server.sessions() as db:
        await db.execute(
            update(DeathNotice)
            .where(DeathNotice.id == notice["id"])
            .values(safeguard_until=datetime.now(UTC) - timedelta(days=1))
        )
        await db.commit()
    late = await notary.post(
        f"/api/v1/death-notices/{notice['id']}/withdraw",
        json={"reason": "too late"},
        headers=csrf(notary),
    )
    assert (late.status_code, late.json()["type"]) == (409, "safeguard-over")


async def test_a_look_up_is_recorded_on_both_sides_and_reveals_nothing_of_the_living(
    server, jan, notary, office_id
):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    without_reason = await lookup(notary, JAN, reason=" ")
    assert (without_reason.status_code, without_reason.json()["type"]) == (422, "reason-required")
    assert (await lookup(notary, "123")).json()["type"] == "nrn-invalid"

    living = await lookup(notary, JAN, reason="estate 2026/18")
    assert living.json() == {
        "vault_exists": None,
        "option": None,
        "reference_office": None,
        "status": "no-death-recorded",
        "name": None,
        "notice": None,
        "estate_id": None,
    }
    unknown = await lookup(notary, make_nrn(date(1950, 1, 1), 77))
    assert unknown.json()["status"] == "no-death-recorded"
    mine = [e for e in await history(server, jan_id) if e.action == "succession:lookup"]
    assert [e.detail["reason"] for e in mine] == ["estate 2026/18"]
    assert mine[0].actor_label == "Sophie Claes"
    theirs = [e for e in await history(server, office_id) if e.action == "succession:lookup"]
    assert len(theirs) == 2
    # The office's history names nobody alive: a masked number, never the name or the NRN.
    assert all(JAN not in (e.target or "") and "Jan" not in (e.target or "") for e in theirs)
    # The history page shows the look-up to Jan.
    page = await jan.get("/history")
    assert "estate 2026/18" in page.text or "Sophie Claes" in page.text


async def test_estates_need_a_notary_heirs_and_a_single_transfer(server, jan, notary, staff, marie):
    living = await open_estate(notary, JAN)
    assert (living.status_code, living.json()["type"]) == (404, "no-death-recorded")
    assert (await record_death(notary, JAN)).status_code == 201
    assert (await open_estate(staff, JAN)).json()["type"] == "notary-only"
    estate = (await open_estate(notary, JAN)).json()
    assert (await open_estate(notary, JAN)).json()["type"] == "estate-exists"
    early = await transfer(notary, estate["id"])
    assert (early.status_code, early.json()["type"]) == (409, "heirs-missing")
    bad_heirs = [
        ([], "heirs-missing"),
        (["85073003329"], "nrn-invalid"),
        ([JAN, MARIE], "heir-is-deceased"),
        ([MARIE, MARIE], "heir-duplicate"),
    ]
    for heirs, problem in bad_heirs:
        response = await set_heirs(notary, estate["id"], heirs)
        assert (response.status_code, response.json()["type"]) == (422, problem), heirs
    assert (await notary.get(f"/api/v1/estates/{estate['id']}")).json()["heirs"] == []
    assert (await set_heirs(notary, estate["id"], [MARIE])).status_code == 200
    assert (await transfer(notary, estate["id"])).status_code == 200
    again = await transfer(notary, estate["id"])
    assert (again.status_code, again.json()["type"]) == (409, "already-transferred")
    changed = await set_heirs(notary, estate["id"], [MARIE, NOTARY])
    assert changed.json()["type"] == "already-transferred"
    # Staff and other citizens do not see the estate at all.
    assert (await staff.get(f"/api/v1/estates/{estate['id']}")).status_code == 404
    assert (await marie.get(f"/api/v1/estates/{estate['id']}")).status_code == 404


async def test_a_frozen_vault_takes_no_upload_copy_or_share(server, platform, jan, marie, notary):
    """No session of Jan's survives the notice; the services refuse all the same."""
    contact, _ = await become_contacts(server, jan, marie)
    document_id = (await upload(jan, "mine.txt", b"mine")).json()["id"]
    assert (await record_death(notary, JAN)).status_code == 201

    async def body():
        yield b"after death"

    attempts = [
        lambda db, person, source, actor: platform.documents.upload(
            db,
            person,
            name="new.txt",
            categories=[],
            labels=[],
            body=body(),
            declared_size=None,
            actor=actor,
        ),
        lambda db, person, source, actor: platform.documents.copy(
            db, source, person, origin="copy", origin_label="x", actor=actor
        ),
        lambda db, person, source, actor: platform.shares.share(
            db, person, source.id, uuid.UUID(contact), "now", actor
        ),
    ]
    for attempt in attempts:
        async with server.sessions() as db:  # a session each: a refusal rolls back
            person = await platform.identity.people.by_nrn(db, JAN)
            source = await db.get(Document, document_id)
            try:
                await attempt(db, person, source, Actor(label=person.full_name, id=person.id))
            except VaultFrozen:
                pass
            else:
                raise AssertionError("a frozen vault took something new")
    async with server.sessions() as db:
        person = await platform.identity.people.by_nrn(db, JAN)
        names = await db.scalars(select(Document.name).where(Document.owner_id == person.id))
        assert list(names) == ["mine.txt"]
    refusals = [
        e.detail["reason"]
        for e in await history(server, str(person.id))
        if e.action == "vault:document:refused"
    ]
    assert refusals == ["vault-frozen", "vault-frozen"]
