"""Notifications end to end: in the app, and by e-mail through a real worker and a real
SMTP server; each kind and channel can be switched off."""

from __future__ import annotations

import asyncio

from tests.support.contacts import become_contacts, invite
from tests.support.login import JAN, csrf
from tests.support.offices import member, register_office
from tests.support.vault import upload


async def share_with(client, document_id: str, contact_id: str):
    return await client.post(
        f"/api/v1/documents/{document_id}/shares",
        json={"contact_id": contact_id, "when": "now"},
        headers=csrf(client),
    )


async def notifications(client) -> list[dict]:
    return (await client.get("/api/v1/notifications/")).json()


async def test_a_share_is_announced_in_the_app_and_by_mail(inbox, jan, marie, server):
    for_marie, _ = await become_contacts(server, jan, marie)
    inbox.wait_for(1)  # the invitation's own mail
    inbox.clear()
    document = (await upload(jan, "Medisch dossier.pdf", b"%PDF-1.4\n")).json()

    assert (await share_with(jan, document["id"], for_marie)).status_code == 201

    mail = inbox.wait_for(1)[0]
    assert mail["To"] == "marie.dubois@example.test"
    body = mail.get_content()
    assert "Jan Peeters" in body and "/shared" in body
    assert "Medisch" not in body and "Medisch" not in mail["Subject"]
    shown = await notifications(marie)
    assert (shown[0]["kind"], shown[0]["link"], shown[0]["read"]) == ("share", "/shared", False)
    assert "Jan Peeters" in shown[0]["text"]

    read = await marie.post("/api/v1/notifications/read", headers=csrf(marie))
    assert read.status_code == 204
    assert all(n["read"] for n in await notifications(marie))


async def test_a_switched_off_channel_stays_quiet(inbox, jan, marie, server):
    for_marie, _ = await become_contacts(server, jan, marie)
    inbox.wait_for(1)
    inbox.clear()
    off = await marie.patch(
        "/api/v1/me",
        json={"notifications": {"share.email": False, "share.app": False}},
        headers=csrf(marie),
    )
    assert off.status_code == 200
    document = (await upload(jan, "a.txt", b"a\n")).json()

    await share_with(jan, document["id"], for_marie)
    # Something still switched on, after it: once that mail is in, the share's would be too.
    await invite(marie, "nog.geen.account@example.test")

    inbox.wait_for(1)
    await asyncio.sleep(0.5)  # one worker, in order: a mail for the share would be in by now
    assert [m["To"] for m in inbox.received] == ["nog.geen.account@example.test"]
    assert all(n["kind"] != "share" for n in await notifications(marie))


async def test_an_invitation_to_an_address_without_an_account_is_mailed(inbox, jan):
    await invite(jan, "nog.geen.account@example.test")

    mail = inbox.wait_for(1)[0]
    assert mail["To"] == "nog.geen.account@example.test"
    assert "Jan Peeters" in mail.get_content()


async def test_a_document_from_an_office_is_announced(server, platform, jan):
    office_id = await register_office(platform)
    async with member(server, "68010904256") as notary:
        stored = (
            await notary.post(
                f"/api/v1/offices/{office_id}/documents/",
                params={"name": "Akte.txt"},
                content=b"akte\n",
                headers=csrf(notary),
            )
        ).json()
        await notary.post(
            f"/api/v1/offices/{office_id}/documents/{stored['id']}/send",
            json={"nrn": JAN},
            headers=csrf(notary),
        )

    shown = await notifications(jan)

    assert [(n["kind"], n["link"]) for n in shown] == [("office", "/from-offices")]
    assert "Notaris Claes" in shown[0]["text"]
    page = await jan.get("/notifications")
    assert "Notaris Claes" in page.text
    assert 'unread-count"' in page.text  # the badge in the navigation
    await jan.post("/notifications/read", data={"_csrf_token": jan.cookies["csrftoken"]})
    assert 'unread-count"' not in (await jan.get("/vault/")).text


async def test_unknown_preferences_are_refused(server, jan):
    refused = await jan.patch(
        "/api/v1/me", json={"notifications": {"spam.email": True}}, headers=csrf(jan)
    )
    assert refused.status_code == 422
    assert refused.json()["type"] == "notification-setting-unknown"
    saved = await jan.post(
        "/notifications/preferences",
        data={"_csrf_token": jan.cookies["csrftoken"], "office.app": "on"},
    )
    assert saved.status_code == 303
    preferences = (await jan.get("/api/v1/me")).json()["notifications"]
    assert preferences["office.app"] is True and preferences["office.email"] is False
