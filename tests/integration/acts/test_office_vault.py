"""Office vaults over real HTTP: documents both ways between a citizen and an office, with
the office's seal checked on the way to the citizen."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

from joserfc import jws
from joserfc.jwk import KeySet
from sqlalchemy import update

from tests.support import files
from tests.support.login import JAN, csrf
from tests.support.vault import upload
from vault.models import Document


async def send_to_office(client, document_id: str, office_id: str, confidential: bool = False):
    return await client.post(
        f"/api/v1/documents/{document_id}/send-to-office",
        json={"office_id": office_id, "confidential": confidential},
        headers=csrf(client),
    )


async def office_upload(client, office_id: str, name: str, data: bytes):
    return await client.post(
        f"/api/v1/offices/{office_id}/documents/",
        params={"name": name},
        content=data,
        headers=csrf(client),
    )


async def actions(client) -> list[str]:
    return [e["action"] for e in (await client.get("/api/v1/history")).json()["events"]]


async def test_a_citizen_sends_a_document_to_the_office(server, jan, notary, staff, office_id):
    data = files.pdf(os.urandom(400_000))
    document = (await upload(jan, "Compromis.pdf", data)).json()

    sent = await send_to_office(jan, document["id"], office_id)

    assert sent.status_code == 201, sent.text
    for member in (notary, staff):
        listed = (await member.get(f"/api/v1/offices/{office_id}/documents/")).json()
        assert [(d["name"], d["from_citizen"]) for d in listed] == [
            ("Compromis.pdf", "Jan Peeters")
        ]
        content = await member.get(
            f"/api/v1/offices/{office_id}/documents/{listed[0]['id']}/content"
        )
        assert content.content == data
    assert "acts:office:document-sent" in await actions(jan)
    # The office holds a copy of its own: Jan deleting his leaves the office's intact.
    await jan.delete(f"/api/v1/documents/{document['id']}", headers=csrf(jan))
    assert len((await notary.get(f"/api/v1/offices/{office_id}/documents/")).json()) == 1


async def test_a_confidential_document_is_for_notaries_only(server, jan, notary, staff, office_id):
    document = (await upload(jan, "Testament.txt", b"alleen voor de notaris\n")).json()

    await send_to_office(jan, document["id"], office_id, confidential=True)

    seen = (await notary.get(f"/api/v1/offices/{office_id}/documents/")).json()
    assert [(d["name"], d["confidential"]) for d in seen] == [("Testament.txt", True)]
    assert (await staff.get(f"/api/v1/offices/{office_id}/documents/")).json() == []
    hidden = await staff.get(f"/api/v1/offices/{office_id}/documents/{seen[0]['id']}/content")
    assert hidden.status_code == 404


async def test_the_office_sends_a_sealed_document_the_citizen_accepts(
    server, jan, notary, office_id
):
    data = files.pdf(os.urandom(300_000))
    stored = await office_upload(notary, office_id, "Akte.pdf", data)
    assert stored.status_code == 201, stored.text
    assert stored.json()["sealed"] is True

    offered = await notary.post(
        f"/api/v1/offices/{office_id}/documents/{stored.json()['id']}/send",
        json={"nrn": JAN},
        headers=csrf(notary),
    )

    assert offered.status_code == 201, offered.text
    assert JAN not in offered.text
    offers = (await jan.get("/api/v1/from-offices")).json()
    assert [(o["name"], o["office"], o["seal"]) for o in offers] == [
        ("Akte.pdf", "Notaris Claes", {"office": "Notaris Claes", "verified": True})
    ]
    assert (await jan.get("/api/v1/documents")).json() == []  # not in the vault until accepted
    preview = await jan.get(f"/api/v1/from-offices/{offers[0]['id']}/content")
    assert preview.content == data
    assert preview.headers["x-kluis-seal"] == "verified"

    accepted = await jan.post(f"/api/v1/from-offices/{offers[0]['id']}/accept", headers=csrf(jan))

    assert accepted.status_code == 201, accepted.text
    mine = accepted.json()
    assert (mine["origin"], mine["origin_label"]) == ("office", "Notaris Claes")
    assert mine["seal"] == {"office": "Notaris Claes", "verified": True}
    download = await jan.get(f"/api/v1/documents/{mine['id']}/content")
    assert download.content == data
    assert download.headers["x-kluis-seal"] == "verified"
    assert (await jan.get("/api/v1/from-offices")).json() == []
    assert {"acts:office:offered", "acts:office:offer-accepted"} <= set(await actions(jan))

    # Anyone can check the seal with the office's published keys.
    async with server.sessions() as db:
        seal = (await db.get(Document, uuid.UUID(mine["id"]))).seal
    keys = KeySet.import_key_set((await jan.get(f"/api/v1/offices/{office_id}/seal-keys")).json())
    payload = json.loads(jws.deserialize_compact(seal, keys).payload)
    assert payload["sha256"] == hashlib.sha256(download.content).hexdigest()
    assert payload["office"] == office_id


async def test_a_tampered_seal_shows_as_broken(server, jan, notary, office_id):
    stored = (await office_upload(notary, office_id, "Akte.txt", b"akte\n")).json()
    await notary.post(
        f"/api/v1/offices/{office_id}/documents/{stored['id']}/send",
        json={"nrn": JAN},
        headers=csrf(notary),
    )
    offer = (await jan.get("/api/v1/from-offices")).json()[0]
    mine = (await jan.post(f"/api/v1/from-offices/{offer['id']}/accept", headers=csrf(jan))).json()
    async with server.sessions() as db:
        await db.execute(
            update(Document)
            .where(Document.id == uuid.UUID(mine["id"]))
            .values(sha256=hashlib.sha256(b"something else").hexdigest())
        )
        await db.commit()

    shown = (await jan.get(f"/api/v1/documents/{mine['id']}")).json()

    assert shown["seal"] == {"office": "Notaris Claes", "verified": False}
    download = await jan.get(f"/api/v1/documents/{mine['id']}/content")
    assert download.headers["x-kluis-seal"] == "broken"


async def test_refusing_an_offer_leaves_nothing(server, jan, notary, office_id):
    stored = (await office_upload(notary, office_id, "Ontwerp.txt", b"ontwerp\n")).json()
    await notary.post(
        f"/api/v1/offices/{office_id}/documents/{stored['id']}/send",
        json={"nrn": JAN},
        headers=csrf(notary),
    )
    offer = (await jan.get("/api/v1/from-offices")).json()[0]

    refused = await jan.post(f"/api/v1/from-offices/{offer['id']}/refuse", headers=csrf(jan))

    assert refused.status_code == 204
    assert (await jan.get("/api/v1/from-offices")).json() == []
    assert (await jan.get("/api/v1/documents")).json() == []
    late = await jan.post(f"/api/v1/from-offices/{offer['id']}/accept", headers=csrf(jan))
    assert late.status_code == 404
    assert late.json()["type"] == "exchange-not-found"


async def test_office_refusals_change_nothing(server, jan, notary, office_id):
    jans = (await upload(jan, "a.txt", b"a\n")).json()
    unknown_office = await send_to_office(jan, jans["id"], str(uuid.uuid4()))
    assert unknown_office.status_code == 404
    assert unknown_office.json()["type"] == "office-not-found"
    not_mine = await send_to_office(notary, jans["id"], office_id)
    assert not_mine.status_code == 404
    assert not_mine.json()["type"] == "document-not-found"

    # A citizen is no member: the office vault does not exist for him.
    for response in (
        await jan.get(f"/api/v1/offices/{office_id}/documents/"),
        await office_upload(jan, office_id, "x.txt", b"x\n"),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == "office-not-found"

    stored = (await office_upload(notary, office_id, "b.txt", b"b\n")).json()
    send = f"/api/v1/offices/{office_id}/documents/{stored['id']}/send"
    bad = await notary.post(send, json={"nrn": "12345678901"}, headers=csrf(notary))
    assert bad.status_code == 422
    assert bad.json()["type"] == "nrn-invalid"
    nobody = await notary.post(send, json={"nrn": "72110208784"}, headers=csrf(notary))
    assert nobody.status_code == 404
    assert nobody.json()["type"] == "person-not-found"
    assert (await jan.get("/api/v1/from-offices")).json() == []
    assert (await jan.get(f"/api/v1/offices/{uuid.uuid4()}/seal-keys")).status_code == 404
