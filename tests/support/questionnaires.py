"""Questionnaires in tests: a dossier made straight in the database (its own API is another
part's), and a questionnaire with one question of each kind."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from acts.models import Dossier, DossierClient
from idp_bridge import nrn_index, seal_nrn
from tests.support.files import pdf
from tests.support.login import JAN, csrf

EVERY_KIND = [
    {"id": "buyer", "kind": "text", "label": "Name of the buyer", "required": True},
    {"id": "price", "kind": "number", "label": "Price in euro", "required": True},
    {"id": "signing", "kind": "date", "label": "Preferred date of signing", "required": True},
    {"id": "mortgage", "kind": "yes_no", "label": "Do you need a mortgage?", "required": True},
    {
        "id": "regime",
        "kind": "choice",
        "label": "Matrimonial regime",
        "required": True,
        "choices": ["community", "separation"],
    },
    {"id": "deed", "kind": "file", "label": "Previous deed", "required": False},
]


async def open_dossier(
    platform, office_id: str, clients: list[str], reference: str = "2026/0042"
) -> str:
    """A dossier of `office_id` for `clients` (by NRN), as the office would open it."""
    async with platform.session_maker() as db:
        dossier = Dossier(
            id=uuid.uuid4(),
            office_id=uuid.UUID(office_id),
            reference=reference,
            description="Sale of Kerkstraat 1, Leuven",
            status="open",
            steps=[],
        )
        db.add(dossier)
        await db.flush()
        for nrn in clients:
            db.add(
                DossierClient(
                    dossier_id=dossier.id,
                    nrn_index=nrn_index(platform.keys, nrn),
                    nrn_sealed=seal_nrn(platform.keys, nrn),
                )
            )
        await db.commit()
        return str(dossier.id)


def build(recipient: str, questions: list[dict] | None = None, title: str = "Intake") -> dict:
    return {
        "title": title,
        "recipient_nrn": recipient,
        "questions": EVERY_KIND if questions is None else questions,
    }


async def client_row(platform, dossier: str) -> str:
    """The id of the dossier's (first) client row: what the builder's form chooses by."""
    async with platform.session_maker() as db:
        found = await db.scalar(
            select(DossierClient.id).where(DossierClient.dossier_id == uuid.UUID(dossier))
        )
        return str(found)


async def questionnaire_world(platform, office_id: str, notary, jan) -> dict[str, str]:
    """For the authorization matrix: a dossier of `office_id` with Jan as its client, and two
    questionnaires sent to him: one with every required question answered (the file not
    yet), one finished (its file answered, its PDF delivered)."""
    dossier = await open_dossier(platform, office_id, [JAN])
    required = {"buyer": "Jan", "price": 1, "signing": "2026-03-01", "mortgage": False}
    ids = []
    for _ in range(2):
        sent = await notary.post(
            f"/api/v1/dossiers/{dossier}/questionnaires", json=build(JAN), headers=csrf(notary)
        )
        assert sent.status_code == 201, sent.text
        qid = sent.json()["id"]
        url = f"/api/v1/dossiers/{dossier}/questionnaires/{qid}"
        saved = await jan.put(
            url, json={"answers": {**required, "regime": "community"}}, headers=csrf(jan)
        )
        assert saved.status_code == 200, saved.text
        ids.append((qid, url))
    qid, url = ids[1]
    filed = await jan.put(
        f"{url}/files/deed", params={"name": "Akte.pdf"}, content=pdf(), headers=csrf(jan)
    )
    assert filed.status_code == 200, filed.text
    assert (await jan.post(url, headers=csrf(jan))).status_code == 200
    return {
        "qn_dossier": dossier,
        "qn_client": await client_row(platform, dossier),
        "questionnaire": ids[0][0],
        "questionnaire_done": qid,
    }
