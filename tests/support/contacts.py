"""Contacts as a test sets them up: confirmed addresses, invitations, accepted contacts."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from idp_bridge import Person
from tests.support.login import csrf


async def confirm_email(server, client: httpx.AsyncClient, email: str | None = None) -> str:
    """Give the person logged in on `client` a confirmed address (theirs by default)."""
    me = (await client.get("/api/v1/me")).json()
    address = email or me["email"]
    async with server.sessions() as db:
        await db.execute(
            update(Person).where(Person.id == me["id"]).values(email=address, email_verified=True)
        )
        await db.commit()
    return address


async def invite(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(
        "/api/v1/contacts/invitations", json={"email": email}, headers=csrf(client)
    )


async def become_contacts(server, a: httpx.AsyncClient, b: httpx.AsyncClient) -> tuple[str, str]:
    """`a` invites `b`'s confirmed address and `b` accepts: (a's contact id for b, b's for a)."""
    address = await confirm_email(server, b)
    invitation = (await invite(a, address)).json()
    accepted = await b.post(
        f"/api/v1/contacts/invitations/{invitation['id']}/accept", headers=csrf(b)
    )
    assert accepted.status_code == 201, accepted.text
    theirs = accepted.json()["id"]
    mine = next(c["id"] for c in (await a.get("/api/v1/contacts")).json())
    return mine, theirs
