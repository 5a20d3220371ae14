"""Messages in a dossier over real HTTP: both ways, replies quoting the original, an
attachment scanned by clamd, 4,000 characters and not one more, all or nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from acts.models import DossierMessage
from tests.support import files
from tests.support.dossiers import open_dossier, post_document, send_message
from tests.support.login import csrf
from tests.support.vault import document_rows


async def message_rows(server) -> int:
    async with server.sessions() as db:
        return await db.scalar(select(func.count()).select_from(DossierMessage)) or 0


async def test_messages_both_ways_with_a_reply_and_an_attachment(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]

    sent = await send_message(notary, dossier, "Ontwerpakte", "Graag uw opmerkingen.")

    assert sent.status_code == 201, sent.text
    unread = (await jan.get(f"/api/v1/dossiers/{dossier}")).json()["unread"]
    assert unread["messages"] == 1
    notices = (await jan.get("/api/v1/notifications")).json()
    assert any(n["link"] == f"/dossiers/{dossier}?tab=messages" for n in notices), notices
    listed = (await jan.get(f"/api/v1/dossiers/{dossier}/messages")).json()
    assert [(m["subject"], m["author"]) for m in listed] == [("Ontwerpakte", "Sophie Claes")]
    assert (await jan.get(f"/api/v1/dossiers/{dossier}")).json()["unread"]["messages"] == 0

    data = files.pdf(b"mijn opmerkingen")
    reply = await jan.post(
        f"/api/v1/dossiers/{dossier}/messages",
        data={"subject": "Re: Ontwerpakte", "body": "Zie bijlage.", "reply_to": sent.json()["id"]},
        files={"attachment": ("Opmerkingen.pdf", data, "application/pdf")},
        headers=csrf(jan),
    )

    assert reply.status_code == 201, reply.text
    answer = reply.json()
    assert answer["reply_to"]["subject"] == "Ontwerpakte"
    assert answer["reply_to"]["body"] == "Graag uw opmerkingen."
    assert [a["name"] for a in answer["attachments"]] == ["Opmerkingen.pdf"]
    assert (await notary.get(f"/api/v1/dossiers/{dossier}")).json()["unread"]["messages"] == 1
    office_list = (await notary.get(f"/api/v1/dossiers/{dossier}/messages")).json()
    attachment = office_list[0]["attachments"][0]["id"]
    content = await notary.get(
        f"/api/v1/dossiers/{dossier}/messages/{answer['id']}/attachments/{attachment}/content"
    )
    assert content.content == data
    assert (await notary.get(f"/api/v1/dossiers/{dossier}")).json()["unread"]["messages"] == 0


async def test_subjects_and_bodies_are_sealed_at_rest(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]
    await send_message(notary, dossier, "Geheim onderwerp", "Vertrouwelijke inhoud")

    async with server.sessions() as db:
        row = await db.scalar(select(DossierMessage))
    assert b"Geheim" not in row.subject_sealed and b"Vertrouwelijk" not in row.body_sealed


async def test_four_thousand_characters_and_not_one_more(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]

    exact = await send_message(jan, dossier, "Lang", "é" * 4000)  # characters, not bytes
    too_long = await send_message(jan, dossier, "Te lang", "é" * 4001)

    assert exact.status_code == 201, exact.text
    assert len(exact.json()["body"]) == 4000
    assert (too_long.status_code, too_long.json()["type"]) == (422, "message-too-long")
    assert await message_rows(server) == 1
    for body, kind in (
        ({"subject": "", "body": "x"}, "message-subject-invalid"),
        ({"subject": "x", "body": " "}, "message-body-missing"),
    ):
        refused = await send_message(jan, dossier, **body)
        assert (refused.status_code, refused.json()["type"]) == (422, kind)
    other = (await open_dossier(notary, office_id, reference="2026/0043")).json()["id"]
    foreign = (await send_message(notary, other, "Elders", "x")).json()["id"]
    refused = await send_message(jan, dossier, "Re", "x", reply_to=foreign)
    assert (refused.status_code, refused.json()["type"]) == (422, "message-reply-unknown")
    assert await message_rows(server) == 2


async def test_a_refused_attachment_leaves_nothing_of_the_message(server, jan, notary, office_id):
    dossier = (await open_dossier(notary, office_id)).json()["id"]
    before = await document_rows(server)

    refused = await jan.post(
        f"/api/v1/dossiers/{dossier}/messages",
        data={"subject": "Bijlagen", "body": "Twee bijlagen."},
        files=[
            ("attachment", ("Goed.pdf", files.pdf(), "application/pdf")),
            ("attachment", ("Virus.pdf", files.pdf(files.EICAR), "application/pdf")),
        ],
        headers=csrf(jan),
    )

    assert (refused.status_code, refused.json()["type"]) == (422, "malware-found"), refused.text
    assert await message_rows(server) == 0
    assert await document_rows(server) == before


async def test_messages_are_switched_off_apart_from_documents(server, jan, notary, office_id):
    """PRODUCT.md: the client chooses notifications for new documents and for messages."""
    switched = await jan.patch(
        "/api/v1/me",
        json={"notifications": {"dossier_message.app": False, "dossier_message.email": False}},
        headers=csrf(jan),
    )
    assert switched.status_code == 200, switched.text
    dossier = (await open_dossier(notary, office_id)).json()["id"]
    before = {n["id"] for n in (await jan.get("/api/v1/notifications")).json()}

    assert (await send_message(notary, dossier, "Vraag", "Even bellen?")).status_code == 201
    published = await post_document(notary, dossier, "Ontwerp.txt", b"ontwerpakte\n", "documents")
    assert published.status_code == 201, published.text

    new = [n for n in (await jan.get("/api/v1/notifications")).json() if n["id"] not in before]
    assert [(n["kind"], n["link"]) for n in new] == [
        ("dossier", f"/dossiers/{dossier}?tab=documents")
    ]
