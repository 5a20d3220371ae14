"""The office vault pages and the reference notary page over real HTTP."""

from __future__ import annotations

import uuid

from tests.support.login import JAN, csrf
from tests.support.vault import upload


def form(client, **fields: str) -> dict[str, str]:
    return {"_csrf_token": client.cookies["csrftoken"], **fields}


async def test_documents_both_ways_through_the_pages(server, jan, notary, staff, office_id):
    document = (await upload(jan, "Vraag.txt", b"vraag\n")).json()
    page = await jan.get(f"/vault/{document['id']}/send-to-office", params={"q": "leuven"})
    assert "Notaris Claes" in page.text
    sent = await jan.post(
        f"/vault/{document['id']}/send-to-office",
        data=form(jan, office_id=office_id, confidential="yes"),
    )
    assert sent.status_code == 303
    assert "Vraag.txt" in (await notary.get(f"/offices/{office_id}/vault")).text
    assert "Vraag.txt" not in (await staff.get(f"/offices/{office_id}/vault")).text
    assert (await jan.get(f"/offices/{office_id}/vault")).status_code == 404
    home = await notary.get("/home")
    assert f"/offices/{office_id}/vault" in home.text

    answer = (
        await notary.post(
            f"/api/v1/offices/{office_id}/documents/",
            params={"name": "Antwoord.txt"},
            content=b"antwoord\n",
            headers=csrf(notary),
        )
    ).json()
    offered = await notary.post(
        f"/offices/{office_id}/vault/{answer['id']}/send", data=form(notary, nrn=JAN)
    )
    assert offered.status_code == 303
    inbox = await jan.get("/from-offices")
    assert "Antwoord.txt" in inbox.text and "Notaris Claes" in inbox.text
    assert "seal" in inbox.text
    offer = (await jan.get("/api/v1/from-offices")).json()[0]["id"]
    accepted = await jan.post(f"/from-offices/{offer}/accept", data=form(jan))
    assert accepted.status_code == 303
    vault = (await jan.get("/vault/")).text
    assert "Antwoord.txt" in vault and 'class="badge ok seal"' in vault


async def test_choosing_a_reference_notary(server, jan, office_id):
    page = await jan.get("/reference-notary", params={"q": "claes"})
    assert "Notaris Claes" in page.text

    chosen = await jan.post("/reference-notary", data=form(jan, office_id=office_id))

    assert chosen.status_code == 303
    assert (await jan.get("/api/v1/me")).json()["preferred_office_id"] == office_id
    events = (await jan.get("/api/v1/history")).json()["events"]
    assert events[0]["action"] == "idp:profile:reference-notary"
    assert events[0]["target"] == "Notaris Claes"
    cleared = await jan.patch("/api/v1/me", json={"preferred_office_id": None}, headers=csrf(jan))
    assert cleared.json()["preferred_office_id"] is None
    unknown = await jan.patch(
        "/api/v1/me", json={"preferred_office_id": str(uuid.uuid4())}, headers=csrf(jan)
    )
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "office-not-found"
    kept = await jan.patch("/api/v1/me", json={"language": "fr"}, headers=csrf(jan))
    assert kept.json()["preferred_office_id"] is None
    bad_form = await jan.post("/reference-notary", data=form(jan, office_id="nope"))
    assert bad_form.status_code == 404
