"""Questionnaires in tests: a dossier made straight in the database (its own API is another
part's), and a questionnaire with one question of each kind."""

from __future__ import annotations

import uuid

from acts.models import Dossier, DossierClient
from idp_bridge import nrn_index, seal_nrn

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
