"""Shares over real HTTP: given now or at death, used, copied and revoked."""

from __future__ import annotations

import hashlib
import os
import uuid

import httpx

from tests.conftest import TEST_QUOTA
from tests.support import files
from tests.support.contacts import become_contacts
from tests.support.login import csrf
from tests.support.vault import document_rows, fragments, upload


async def share(client: httpx.AsyncClient, document_id: str, contact_id: str, when: str = "now"):
    return await client.post(
        f"/api/v1/documents/{document_id}/shares",
        json={"contact_id": contact_id, "when": when},
        headers=csrf(client),
    )


async def actions(client: httpx.AsyncClient) -> list[str]:
    return [e["action"] for e in (await client.get("/api/v1/history")).json()["events"]]


async def test_a_shared_document_is_seen_downloaded_and_copied(server, jan, marie):
    for_marie, _ = await become_contacts(server, jan, marie)
    data = files.pdf(os.urandom(2_500_000))
    document = (await upload(jan, "Testament.pdf", data, category="family", label="mijn")).json()

    given = await share(jan, document["id"], for_marie)

    assert given.status_code == 201, given.text
    assert given.json()["recipient"] == "Marie Dubois"
    listed = (await marie.get("/api/v1/shared-with-me")).json()
    assert [(s["name"], s["owner"]) for s in listed] == [("Testament.pdf", "Jan Peeters")]
    share_id = listed[0]["id"]
    assert (await marie.get(f"/api/v1/shared-with-me/{share_id}")).status_code == 200
    content = await marie.get(f"/api/v1/shared-with-me/{share_id}/content")
    assert content.status_code == 200
    assert content.content == data
    part = await marie.get(
        f"/api/v1/shared-with-me/{share_id}/content", headers={"range": "bytes=10-19"}
    )
    assert part.status_code == 206
    assert part.content == data[10:20]

    copied = await marie.post(f"/api/v1/shared-with-me/{share_id}/copy", headers=csrf(marie))

    assert copied.status_code == 201, copied.text
    copy = copied.json()
    assert copy["id"] != document["id"]
    assert (copy["origin"], copy["origin_label"]) == ("copy", "Jan Peeters")
    assert copy["sha256"] == hashlib.sha256(data).hexdigest()
    assert (copy["categories"], copy["labels"]) == (["family"], [])
    mine = await marie.get(f"/api/v1/documents/{copy['id']}/content")
    assert mine.content == data
    assert (await marie.get("/api/v1/usage")).json()["used_bytes"] == len(data)
    assert len(fragments(server)) == 6  # a copy is encrypted again, under its own key
    assert {
        "vault:share:created",
        "vault:share:viewed",
        "vault:share:downloaded",
        "vault:share:copied",
    } <= set(await actions(jan))
    assert {
        "vault:share:received",
        "vault:share:viewed",
        "vault:share:downloaded",
        "vault:document:copied",
    } <= set(await actions(marie))


async def test_revoking_stops_every_use_at_once(server, jan, marie):
    for_marie, _ = await become_contacts(server, jan, marie)
    document = (await upload(jan, "brief.txt", b"voor Marie\n" * 100)).json()
    share_id = (await share(jan, document["id"], for_marie)).json()["id"]
    assert (await marie.get("/api/v1/shared-with-me")).json() != []

    revoked = await jan.delete(f"/api/v1/shares/{share_id}", headers=csrf(jan))

    assert revoked.status_code == 204
    assert (await marie.get("/api/v1/shared-with-me")).json() == []
    for response in (
        await marie.get(f"/api/v1/shared-with-me/{share_id}"),
        await marie.get(f"/api/v1/shared-with-me/{share_id}/content"),
        await marie.post(f"/api/v1/shared-with-me/{share_id}/copy", headers=csrf(marie)),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == "share-not-found"
    twice = await jan.delete(f"/api/v1/shares/{share_id}", headers=csrf(jan))
    assert twice.status_code == 404
    assert "vault:share:revoked" in await actions(jan)
    assert "vault:share:revoked" in await actions(marie)
    assert (await jan.get(f"/api/v1/documents/{document['id']}/shares")).json() == []


async def test_a_share_at_death_stays_hidden_until_then(server, jan, marie):
    for_marie, _ = await become_contacts(server, jan, marie)
    document = (await upload(jan, "afscheid.txt", b"tot ziens\n")).json()

    given = await share(jan, document["id"], for_marie, when="at_death")

    assert given.status_code == 201
    assert (await marie.get("/api/v1/shared-with-me")).json() == []
    assert "vault:share:received" not in await actions(marie)
    listed = (await jan.get(f"/api/v1/documents/{document['id']}/shares")).json()
    assert [(s["recipient"], s["when"]) for s in listed] == [("Marie Dubois", "at_death")]
    hidden = await marie.get(f"/api/v1/shared-with-me/{given.json()['id']}/content")
    assert hidden.status_code == 404


async def test_sharing_refusals_change_nothing(server, jan, marie):
    for_marie, for_jan = await become_contacts(server, jan, marie)
    jans = (await upload(jan, "akte.txt", b"akte\n")).json()
    maries = (await upload(marie, "notes.txt", b"notes\n")).json()

    not_mine = await share(jan, maries["id"], for_marie)
    assert not_mine.status_code == 404
    assert not_mine.json()["type"] == "document-not-found"
    not_a_contact = await share(jan, jans["id"], str(uuid.uuid4()))
    assert not_a_contact.status_code == 404
    assert not_a_contact.json()["type"] == "contact-not-found"
    someone_elses_contact = await share(jan, jans["id"], for_jan)
    assert someone_elses_contact.status_code == 404
    bad_when = await share(jan, jans["id"], for_marie, when="tomorrow")
    assert bad_when.status_code == 422
    assert bad_when.json()["type"] == "share-when-invalid"
    assert (await jan.get(f"/api/v1/documents/{jans['id']}/shares")).json() == []

    assert (await share(jan, jans["id"], for_marie)).status_code == 201
    twice = await share(jan, jans["id"], for_marie, when="at_death")
    assert twice.status_code == 409
    assert twice.json()["type"] == "already-shared"

    # What is shared with Marie is not hers to share on: she must copy it first.
    received = (await marie.get("/api/v1/shared-with-me")).json()[0]
    reshare = await share(marie, jans["id"], for_jan)
    assert reshare.status_code == 404
    not_owner = await marie.delete(f"/api/v1/shares/{received['id']}", headers=csrf(marie))
    assert not_owner.status_code == 404
    copy = (
        await marie.post(f"/api/v1/shared-with-me/{received['id']}/copy", headers=csrf(marie))
    ).json()
    assert (await share(marie, copy["id"], for_jan)).status_code == 201


async def test_a_copy_beyond_the_quota_is_refused_and_leaves_nothing(server, jan, marie):
    for_marie, _ = await become_contacts(server, jan, marie)
    big = files.pdf(os.urandom(TEST_QUOTA // 2 + 1024))
    assert (await upload(marie, "own.pdf", big)).status_code == 201
    document = (await upload(jan, "groot.pdf", big)).json()
    share_id = (await share(jan, document["id"], for_marie)).json()["id"]
    rows, pieces = await document_rows(server), len(fragments(server))

    refused = await marie.post(f"/api/v1/shared-with-me/{share_id}/copy", headers=csrf(marie))

    assert refused.status_code == 413
    assert refused.json()["type"] == "quota-exceeded"
    assert await document_rows(server) == rows
    assert len(fragments(server)) == pieces
    assert "vault:document:refused" in await actions(marie)


async def test_deleting_a_shared_document_ends_its_shares(server, jan, marie):
    for_marie, _ = await become_contacts(server, jan, marie)
    document = (await upload(jan, "oud.txt", b"oud\n")).json()
    await share(jan, document["id"], for_marie)

    deleted = await jan.delete(f"/api/v1/documents/{document['id']}", headers=csrf(jan))

    assert deleted.status_code == 204
    assert (await marie.get("/api/v1/shared-with-me")).json() == []
    assert "vault:share:revoked" in await actions(marie)


async def test_removing_the_contact_ends_the_shares_both_ways(server, jan, marie):
    for_marie, for_jan = await become_contacts(server, jan, marie)
    jans = (await upload(jan, "a.txt", b"a\n")).json()
    maries = (await upload(marie, "b.txt", b"b\n")).json()
    await share(jan, jans["id"], for_marie)
    await share(marie, maries["id"], for_jan)

    await marie.delete(f"/api/v1/contacts/{for_jan}", headers=csrf(marie))

    assert (await marie.get("/api/v1/shared-with-me")).json() == []
    assert (await jan.get("/api/v1/shared-with-me")).json() == []
    assert (await jan.get(f"/api/v1/documents/{jans['id']}/shares")).json() == []
