"""Contacts over real HTTP: invitations by address, answered by whoever confirms it."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from kluis.audit import HistoryEvent
from tests.support.contacts import become_contacts, confirm_email, invite
from tests.support.login import JAN, MARIE, csrf, login
from vault.models import Contact

EMMA = "72110208784"  # in config/demo.toml, never logged in before these tests


async def actions(client: httpx.AsyncClient) -> list[str]:
    return [e["action"] for e in (await client.get("/api/v1/history")).json()["events"]]


async def test_an_invitation_waits_for_a_confirmed_address(server, jan, marie):
    sent = await invite(jan, "Marie.Dubois@example.test")
    assert sent.status_code == 201, sent.text
    assert (await marie.get("/api/v1/contacts/invitations")).json() == []

    await confirm_email(server, marie, "marie.dubois@example.test")

    incoming = (await marie.get("/api/v1/contacts/invitations")).json()
    assert [(i["direction"], i["inviter"]) for i in incoming] == [("incoming", "Jan Peeters")]
    outgoing = (await jan.get("/api/v1/contacts/invitations")).json()
    assert [(i["direction"], i["email"]) for i in outgoing] == [
        ("outgoing", "marie.dubois@example.test")
    ]
    accepted = await marie.post(
        f"/api/v1/contacts/invitations/{incoming[0]['id']}/accept", headers=csrf(marie)
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["full_name"] == "Jan Peeters"
    jans = (await jan.get("/api/v1/contacts")).json()
    assert [c["full_name"] for c in jans] == ["Marie Dubois"]
    for body in (accepted.text, (await jan.get("/api/v1/contacts")).text):
        assert JAN not in body and MARIE not in body
    assert (await jan.get("/api/v1/contacts/invitations")).json() == []
    assert "vault:contact:added" in await actions(jan)
    assert "vault:contact:added" in await actions(marie)


async def test_an_invitation_reaches_someone_who_has_no_account_yet(server, jan):
    assert (await invite(jan, "emma.janssens@example.test")).status_code == 201

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as emma:
        await login(emma, login_hint=EMMA)
        await confirm_email(server, emma)
        incoming = (await emma.get("/api/v1/contacts/invitations")).json()
        assert [i["inviter"] for i in incoming] == ["Jan Peeters"]


async def test_declining_tells_the_inviter_the_answer_but_not_who(server, jan, marie):
    address = await confirm_email(server, marie)
    invitation = (await invite(jan, address)).json()

    declined = await marie.post(
        f"/api/v1/contacts/invitations/{invitation['id']}/decline", headers=csrf(marie)
    )

    assert declined.status_code == 204
    assert (await jan.get("/api/v1/contacts")).json() == []
    assert (await marie.get("/api/v1/contacts/invitations")).json() == []
    events = (await jan.get("/api/v1/history")).json()["events"]
    declined_event = next(e for e in events if e["action"] == "vault:contact:declined")
    assert declined_event["target"] == address
    again = await marie.post(
        f"/api/v1/contacts/invitations/{invitation['id']}/accept", headers=csrf(marie)
    )
    assert again.status_code == 409
    assert again.json()["type"] == "invitation-answered"


async def test_refusals_change_nothing(server, jan, marie):
    own = await confirm_email(server, jan)
    self_invite = await invite(jan, own.upper())
    assert self_invite.status_code == 422
    assert self_invite.json()["type"] == "cannot-invite-self"
    bad = await invite(jan, "not an address")
    assert bad.status_code == 422
    assert bad.json()["type"] == "email-invalid"

    address = await confirm_email(server, marie)
    first = (await invite(jan, address)).json()
    twice = await invite(jan, address)
    assert twice.status_code == 409
    assert twice.json()["type"] == "already-invited"

    # Someone else's invitation, one's own, an unknown one: not found, nothing changes.
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as lucas:
        await login(lucas, login_hint="01052101621")
        await confirm_email(server, lucas)
        stolen = await lucas.post(
            f"/api/v1/contacts/invitations/{first['id']}/accept", headers=csrf(lucas)
        )
        assert stolen.status_code == 404
        assert stolen.json()["type"] == "invitation-not-found"
    own_accept = await jan.post(
        f"/api/v1/contacts/invitations/{first['id']}/accept", headers=csrf(jan)
    )
    assert own_accept.status_code == 404
    unknown = await marie.post(
        f"/api/v1/contacts/invitations/{uuid.uuid4()}/accept", headers=csrf(marie)
    )
    assert unknown.status_code == 404
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Contact)) == 0

    await marie.post(f"/api/v1/contacts/invitations/{first['id']}/accept", headers=csrf(marie))
    already = await invite(jan, address)
    assert already.status_code == 409
    assert already.json()["type"] == "already-contacts"
    gone = await jan.delete(f"/api/v1/contacts/{uuid.uuid4()}", headers=csrf(jan))
    assert gone.status_code == 404
    assert gone.json()["type"] == "contact-not-found"


async def test_withdrawing_an_invitation(server, jan, marie):
    address = await confirm_email(server, marie)
    invitation = (await invite(jan, address)).json()

    withdrawn = await jan.delete(
        f"/api/v1/contacts/invitations/{invitation['id']}", headers=csrf(jan)
    )

    assert withdrawn.status_code == 204
    assert (await marie.get("/api/v1/contacts/invitations")).json() == []
    late = await marie.post(
        f"/api/v1/contacts/invitations/{invitation['id']}/accept", headers=csrf(marie)
    )
    assert late.status_code == 409


async def test_removing_a_contact_removes_both_sides(server, jan, marie):
    mine, _theirs = await become_contacts(server, jan, marie)

    removed = await jan.delete(f"/api/v1/contacts/{mine}", headers=csrf(jan))

    assert removed.status_code == 204
    assert (await jan.get("/api/v1/contacts")).json() == []
    assert (await marie.get("/api/v1/contacts")).json() == []
    async with server.sessions() as db:
        removals = await db.scalar(
            select(func.count())
            .select_from(HistoryEvent)
            .where(HistoryEvent.action == "vault:contact:removed")
        )
    assert removals == 2


async def test_contacts_need_a_login(server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        response = await anonymous.get("/api/v1/contacts")
    assert response.status_code == 401
