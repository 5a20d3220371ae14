"""The sharing pages' forms over real HTTP (the browser test walks the same flow)."""

from __future__ import annotations

from tests.support.contacts import confirm_email
from tests.support.vault import upload


def form(client, **fields: str) -> dict[str, str]:
    return {"_csrf_token": client.cookies["csrftoken"], **fields}


async def test_invite_accept_share_copy_and_revoke_through_the_pages(server, jan, marie):
    address = await confirm_email(server, marie)
    sent = await jan.post("/contacts/invite", data=form(jan, email=address))
    assert sent.status_code == 303
    page = await marie.get("/contacts")
    assert "Jan Peeters" in page.text
    invitation = (await marie.get("/api/v1/contacts/invitations")).json()[0]["id"]
    await marie.post(f"/contacts/invitations/{invitation}/accept", data=form(marie))
    assert "Marie Dubois" in (await jan.get("/contacts")).text

    document = (await upload(jan, "plan.txt", b"plan\n")).json()
    contact = (await jan.get("/api/v1/contacts")).json()[0]["id"]
    shared = await jan.post(
        f"/vault/{document['id']}/share", data=form(jan, contact_id=contact, when="now")
    )
    assert shared.status_code == 303
    vault = (await jan.get("/vault/")).text
    assert "Marie Dubois" in vault
    received = await marie.get("/shared")
    assert "plan.txt" in received.text and "Jan Peeters" in received.text

    share_id = (await marie.get("/api/v1/shared-with-me")).json()[0]["id"]
    copied = await marie.post(f"/shared/{share_id}/copy", data=form(marie))
    assert copied.status_code == 303
    assert "plan.txt" in (await marie.get("/vault/")).text

    revoked = await jan.post(f"/shares/{share_id}/revoke", data=form(jan))
    assert revoked.status_code == 303
    assert "plan.txt" not in (await marie.get("/shared")).text
    unknown = await marie.post(f"/contacts/invitations/{invitation}/bogus", data=form(marie))
    assert unknown.status_code == 404
    bad_contact = await jan.post(
        f"/vault/{document['id']}/share", data=form(jan, contact_id="x", when="now")
    )
    assert bad_contact.status_code == 404
