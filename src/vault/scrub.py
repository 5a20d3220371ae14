"""Scrubbing: find missing or corrupted fragments and rebuild them; remove orphans.

Every block of every fragment is checked against its checksum. A fragment with a bad or
missing block is rebuilt whole from the others (any k sound shares give the encrypted
chunk, which is decrypted once to prove it sound before it is re-encoded), and replaces
the damaged one atomically. Fragments that belong to no document — an upload that crashed
after writing them — and writes never committed are removed once older than a grace period,
so an upload in progress is never touched. A document whose destruction marker a location
holds, but whose row is there (a database restored from an older backup), is destroyed again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kluis import audit
from kluis.audit import Actor
from kluis.db import purge_deleted
from vault.models import Document
from vault.services import Documents, manifest_of
from vault.storage import DESTROYED, DocumentUnreadable, Manifest, fragment_key
from vault.storage import fragments as blocks

# Whatever destroyed it first (its owner, the after-death rules, an office), this is what
# the history says of the second destruction.
REDESTROYED = "vault:document:destroyed-again"

GRACE_SECONDS = 3600.0


@dataclass
class ScrubReport:
    documents: int = 0
    fragments_checked: int = 0
    damaged: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    incomplete_removed: int = 0
    # Rows of destroyed documents that a database restore brought back, and destroyed again.
    resurrected: list[str] = field(default_factory=list)
    redestroyed: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return (
            not self.unreadable
            and (not self.damaged or self.damaged == self.repaired)
            and self.resurrected == self.redestroyed
        )


class Scrubber:
    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.engine = documents.engine

    async def _damaged_fragments(self, document: Document, manifest: Manifest) -> set[int]:
        reader = self.engine.reader(manifest, document.id)
        damaged = {
            fragment for fragment in range(manifest.n) if not await reader.header_holds(fragment)
        }
        for index in range(manifest.chunk_count):
            for fragment in range(manifest.n):
                if fragment in damaged:
                    continue
                if await reader.block(fragment, index) is None:
                    damaged.add(fragment)
        return damaged

    async def _rebuild(self, document: Document, manifest: Manifest, targets: set[int]) -> None:
        """Fragments `targets` written anew from chunks the others prove sound."""
        reader = self.engine.reader(manifest, document.id, self.documents.unwrap_key(document))
        writers = {
            i: await self.engine.locations[i].create(fragment_key(document.id, i)) for i in targets
        }
        try:
            for i, writer in writers.items():
                await writer.write(blocks.header(document.id, i, manifest.layout))
            for index in range(manifest.chunk_count):
                encrypted, _plain = await reader.sound(index, avoid=targets)
                shares = blocks.encode(manifest.layout, encrypted)
                for i, writer in writers.items():
                    await writer.write(shares[i])
            for writer in writers.values():
                await writer.commit()
        except BaseException:
            for writer in writers.values():
                await writer.abort()
            raise

    async def run(
        self,
        db: AsyncSession,
        *,
        repair: bool,
        actor: Actor,
        grace_seconds: float = GRACE_SECONDS,
        progress: Callable[[int], None] | None = None,
    ) -> ScrubReport:
        report = ScrubReport()
        destroyed = await self._destroyed()
        known: set[uuid.UUID] = set()
        resurrected: list[Document] = []
        async for document in self._all(db):
            known.add(document.id)
            report.documents += 1
            if document.id in destroyed:
                report.resurrected.append(str(document.id))
                resurrected.append(document)
            else:
                await self._check(document, report, repair)
            if progress:
                progress(1)
        # After the stream: a commit would end the transaction its cursor reads in.
        if repair and resurrected:
            for document in resurrected:
                await self._destroy_again(db, document, actor)
                report.redestroyed.append(str(document.id))
            await purge_deleted(db)
        cutoff = time.time() - grace_seconds
        for location in self.engine.locations:
            async for key in location.keys():
                document_id = _document_of(key)
                if document_id in known or key.endswith(f".{DESTROYED}"):
                    continue
                modified = await location.modified(key)
                if modified is not None and modified < cutoff:
                    report.orphans.append(f"{location.name}:{key}")
                    if repair:
                        await location.delete(key)
            if repair:
                report.incomplete_removed += await location.sweep_incomplete(cutoff)
        return report

    async def _check(self, document: Document, report: ScrubReport, repair: bool) -> None:
        manifest = manifest_of(document)
        report.fragments_checked += manifest.n
        damaged = await self._damaged_fragments(document, manifest)
        if damaged:
            report.damaged.append(str(document.id))
            if len(damaged) > manifest.n - manifest.k:
                report.unreadable.append(str(document.id))
            elif repair:
                try:
                    await self._rebuild(document, manifest, damaged)
                    report.repaired.append(str(document.id))
                except DocumentUnreadable:
                    report.unreadable.append(str(document.id))

    async def _destroyed(self) -> set[uuid.UUID]:
        """Every document a location holds a destruction marker of (StorageEngine.destroy)."""
        found: set[uuid.UUID] = set()
        for location in self.engine.locations:
            async for key in location.keys():
                document_id = _document_of(key)
                if document_id is not None and key.endswith(f".{DESTROYED}"):
                    found.add(document_id)
        return found

    async def _destroy_again(self, db: AsyncSession, document: Document, actor: Actor) -> None:
        """A row of a destroyed document is back (a database restored from a backup taken
        before the destruction): its key goes again, and whatever fragments came back."""
        await db.execute(delete(Document).where(Document.id == document.id))
        await audit.record(
            db,
            subject_id=document.holder_id,
            action=REDESTROYED,
            actor=actor,
            target=document.name,
            detail={"document": str(document.id), "reason": "restored-after-destruction"},
        )
        await db.commit()
        await self.engine.destroy(document.id)

    @staticmethod
    async def _all(db: AsyncSession) -> AsyncIterator[Document]:
        result = await db.stream_scalars(
            select(Document).order_by(Document.id).execution_options(yield_per=200)
        )
        async for document in result:
            yield document


def _document_of(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=key.split(".", 1)[0])
    except ValueError:
        return None
