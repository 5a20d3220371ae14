"""Destroying documents for good (succession): crypto-shredding and a tombstone.

The document row goes, and with it the only copy of its wrapped data key; the fragments
are removed once that is committed. Without the key, no fragment left anywhere (a backup,
a location that was offline) can be decrypted again. A tombstone and the history events
keep that the document existed, never its content.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import Person
from kluis import audit
from kluis.audit import Actor
from vault.models import Document, Share, Tombstone
from vault.storage import StorageEngine


class Destruction:
    def __init__(self, engine: StorageEngine) -> None:
        self.engine = engine

    async def shred(
        self,
        db: AsyncSession,
        owner: Person,
        documents: Sequence[Document],
        *,
        reason: str,
        actor: Actor,
    ) -> list[uuid.UUID]:
        """Remove the documents' rows and keys in the caller's transaction, leaving
        tombstones and history events; the caller commits, then `remove_fragments`."""
        if not documents:
            return []
        ids = [d.id for d in documents]
        recipients = (
            await db.execute(
                select(Share.document_id, Share.recipient_id).where(
                    Share.document_id.in_(ids), Share.takes_effect == "now"
                )
            )
        ).all()
        names = {d.id: d.name for d in documents}
        for document_id, recipient_id in recipients:
            await audit.record(
                db,
                subject_id=recipient_id,
                action="vault:share:revoked",
                actor=actor,
                target=names[document_id],
                detail={"owner": owner.full_name, "reason": reason},
            )
        for document in documents:
            db.add(
                Tombstone(
                    document_id=document.id,
                    owner_id=owner.id,
                    size=document.size,
                    reason=reason,
                )
            )
            await audit.record(
                db,
                subject_id=owner.id,
                action="vault:document:destroyed",
                actor=actor,
                target=document.name,
                detail={"document": str(document.id), "reason": reason},
            )
            await db.delete(document)  # its shares go with it (foreign key)
        await db.flush()
        return ids

    async def remove_fragments(self, ids: Sequence[uuid.UUID]) -> None:
        """Delete the fragments of shredded documents at every location. Whatever a failure
        leaves behind is unreadable (the key is gone) and `kluis storage scrub` removes it."""
        for document_id in ids:
            await asyncio.shield(self.engine.destroy(document_id))
