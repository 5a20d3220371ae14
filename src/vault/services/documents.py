"""The citizen's documents: upload in one streaming pass, list, read, change, copy, delete."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import Person
from kluis import audit, metrics
from kluis.audit import Actor
from kluis.errors import AppError, Invalid, NotFound
from kluis.hooks import Hooks, SealStatus
from kluis.keys import KeyProvider
from kluis.settings import Settings
from vault.domain import (
    DocumentDestroyed,
    FileTooLarge,
    QuotaExceeded,
    check_extension,
    check_not_frozen,
    check_tags,
    clean_name,
)
from vault.interfaces import Scanner, ScanSession
from vault.models import Document, Share, VaultQuota
from vault.services.intake import scan_and_store
from vault.storage import DocumentWriter, Manifest, StorageEngine, crypto
from vault.streaming import chunks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    """Whose documents: a citizen's vault (with a quota) or a notary office's vault.
    `id` is also the subject of the history events about them."""

    id: uuid.UUID
    person: Person | None = None

    @classmethod
    def office(cls, office_id: uuid.UUID) -> Holder:
        return cls(office_id)


def holder_of(owner: Person | Holder) -> Holder:
    return owner if isinstance(owner, Holder) else Holder(owner.id, owner)


class CountedBody:
    """An upload's body, counting the bytes that went through it (for the metrics)."""

    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self.body = body
        self.received = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        chunk = await anext(self.body)
        self.received += len(chunk)
        return chunk

    def count(self, outcome: str) -> None:
        metrics.uploads.labels(outcome).inc()
        metrics.upload_bytes.labels(outcome).inc(self.received)


def _search_text(name: str, categories: list[str], labels: list[str]) -> str:
    tags = [f"c:{c}" for c in categories] + [f"l:{label}" for label in labels]
    return ("|" + "|".join(tags) + "|" + name).casefold()


def data_key_aad(document_id: uuid.UUID) -> bytes:
    return b"document-key:" + document_id.bytes


def manifest_of(document: Document) -> Manifest:
    return Manifest(
        k=document.fragments_needed,
        n=document.fragments_total,
        chunk_bytes=document.chunk_bytes,
        chunk_count=document.chunk_count,
        size=document.size,
    )


class Documents:
    def __init__(
        self,
        settings: Settings,
        keys: KeyProvider,
        engine: StorageEngine,
        scanner: Scanner,
        hooks: Hooks | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.engine = engine
        self.scanner = scanner
        self.hooks = hooks or Hooks()

    async def space(self, db: AsyncSession, owner_id: uuid.UUID) -> tuple[int, int]:
        """(bytes used, quota) of a citizen's vault: the quota is their tier's, if an
        operator gave them one, else the configured default."""
        used = await db.scalar(
            select(func.coalesce(func.sum(Document.size), 0)).where(Document.owner_id == owner_id)
        )
        tier = await db.scalar(
            select(VaultQuota.quota_bytes).where(VaultQuota.person_id == owner_id)
        )
        return int(used or 0), self.settings.vault.quota_bytes if tier is None else int(tier)

    async def set_tier(self, db: AsyncSession, owner: Person, tier: str, actor: Actor) -> int:
        """Give a citizen one of the configured quota tiers (an operator's decision)."""
        tiers = self.settings.vault.quota_tiers
        if tier not in tiers:
            raise Invalid("This quota tier does not exist.", type="quota-tier-unknown")
        row = await db.scalar(select(VaultQuota).where(VaultQuota.person_id == owner.id))
        if row is None:
            row = VaultQuota(person_id=owner.id, tier=tier, quota_bytes=tiers[tier])
            db.add(row)
        row.tier, row.quota_bytes = tier, tiers[tier]
        await audit.record(
            db,
            subject_id=owner.id,
            action="vault:quota:changed",
            actor=actor,
            target=tier,
            detail={"quota_bytes": tiers[tier]},
        )
        await db.commit()
        return tiers[tier]

    # -- upload -------------------------------------------------------------------------

    async def upload(
        self,
        db: AsyncSession,
        owner: Person | Holder,
        *,
        name: str | None,
        categories: list[str],
        labels: list[str],
        body: AsyncIterator[bytes],
        declared_size: int | None,
        actor: Actor,
        also: Callable[[Document], Awaitable[None]] | None = None,
    ) -> Document:
        """Scan, encrypt and store in one pass; the document exists only if all went well.
        `also` adds to the transaction that records it (an office's seal). Counted in the
        metrics by outcome, with the bytes received."""
        body = counted = CountedBody(body)
        holder = holder_of(owner)
        shown_name = (name or "")[:200]
        try:
            check_not_frozen(holder.person)
            name = clean_name(name)
            ext = check_extension(name)
            categories, labels = check_tags(categories, labels)
            limit = self.settings.vault.max_upload_bytes
            room = await self._room(db, holder)
            if declared_size is not None and declared_size > limit:
                raise FileTooLarge()
            if declared_size is not None and declared_size > room:
                raise QuotaExceeded()
            await db.commit()  # hold no transaction while the body streams in
            document_id = uuid.uuid4()
            data_key = crypto.new_data_key()
            scan = await self.scanner.open()
            writer: DocumentWriter | None = None
            try:
                writer = await self.engine.writer(document_id, data_key)
                digest, media_type = await scan_and_store(
                    body, ext, room, limit, scan, writer, self.engine.layout.chunk_bytes
                )
                manifest = await writer.commit()
            except BaseException:
                await asyncio.shield(self._discard(document_id, writer, scan))
                raise
            document = Document(
                id=document_id,
                name=name,
                sha256=digest,
                media_type=media_type,
                categories=categories,
                labels=labels,
            )
            await self._record(db, holder, document, data_key, manifest, actor, also=also)
        except AppError as refusal:
            counted.count(refusal.type)
            await self._record_refusal(db, holder, shown_name, refusal, actor)
            raise
        except BaseException:  # the client went away, or something failed unexpectedly
            counted.count("aborted")
            raise
        counted.count("stored")
        return document

    async def _discard(
        self, document_id: uuid.UUID, writer: DocumentWriter | None, scan: ScanSession | None
    ) -> None:
        if writer is not None:
            await writer.abort()
        await self.engine.delete(document_id)
        if scan is not None:
            await scan.abort()

    async def _room(self, db: AsyncSession, holder: Holder) -> int:
        """Bytes a holder may still store. Office vaults hold what offices exchange with
        citizens, each file within the upload limit: no quota of their own."""
        if holder.person is None:
            return self.settings.vault.max_upload_bytes
        used, quota = await self.space(db, holder.id)
        return quota - used

    async def _record(
        self,
        db: AsyncSession,
        holder: Holder,
        document: Document,
        data_key: bytes,
        manifest: Manifest,
        actor: Actor,
        *,
        action: str = "vault:document:uploaded",
        detail: dict[str, str] | None = None,
        also: Callable[[Document], Awaitable[None]] | None = None,
    ) -> None:
        """Commit the row of a document whose fragments are stored, with its history event
        and whatever `also` records; on any failure the fragments go."""
        try:
            if holder.person is None:
                document.office_id = holder.id
            else:
                # Lock the owner first (a no-op write): two uploads finishing at once see
                # each other's size, on PostgreSQL and on SQLite alike.
                await db.execute(update(Person).where(Person.id == holder.id).values(id=Person.id))
                if manifest.size > await self._room(db, holder):
                    raise QuotaExceeded()
                document.owner_id = holder.id
            document.size = manifest.size
            document.search_text = _search_text(document.name, document.categories, document.labels)
            document.wrapped_key = self.keys.seal(data_key, data_key_aad(document.id))
            document.chunk_bytes = manifest.chunk_bytes
            document.chunk_count = manifest.chunk_count
            document.fragments_needed = manifest.k
            document.fragments_total = manifest.n
            db.add(document)
            await audit.record(
                db,
                subject_id=holder.id,
                action=action,
                actor=actor,
                target=document.name,
                detail={"document": str(document.id), "size": manifest.size, **(detail or {})},
            )
            if also is not None:
                await also(document)
            await db.commit()
        except BaseException:
            await asyncio.shield(self.engine.delete(document.id))
            raise

    async def copy(
        self,
        db: AsyncSession,
        source: Document,
        owner: Person | Holder,
        *,
        origin: str,
        origin_label: str,
        actor: Actor,
        seal: str | None = None,
        also: Callable[[Document], Awaitable[None]] | None = None,
    ) -> Document:
        """A copy of `source` in `owner`'s vault, under a data key of its own and counted
        against their quota. It was scanned when it first came in, so it is not again."""
        holder = holder_of(owner)
        try:
            check_not_frozen(holder.person)
            if source.size > await self._room(db, holder):
                raise QuotaExceeded()
            await db.commit()  # hold no transaction while the content is copied
            await self._check_not_destroyed(source)
            document_id, data_key = uuid.uuid4(), crypto.new_data_key()
            writer = await self.engine.writer(document_id, data_key)
            try:
                plain = self.engine.read(manifest_of(source), source.id, self.unwrap_key(source))
                async for chunk, last in chunks(plain, self.engine.layout.chunk_bytes):
                    await writer.write(chunk, last=last)
                await writer.flush()
                manifest = await writer.commit()
            except BaseException:
                await asyncio.shield(self._discard(document_id, writer, None))
                raise
            document = Document(
                id=document_id,
                name=source.name,
                sha256=source.sha256,
                media_type=source.media_type,
                categories=list(source.categories),
                labels=[],  # labels are the owner's own words
                origin=origin,
                origin_label=origin_label,
                seal=seal,
            )
            await self._record(
                db,
                holder,
                document,
                data_key,
                manifest,
                actor,
                action="vault:document:copied",
                detail={"from": origin_label},
                also=also,
            )
        except AppError as refusal:
            await self._record_refusal(db, holder, source.name, refusal, actor)
            raise
        return document

    async def _record_refusal(
        self, db: AsyncSession, holder: Holder, name: str, refusal: AppError, actor: Actor
    ) -> None:
        await db.rollback()
        await audit.record(
            db,
            subject_id=holder.id,
            action="vault:document:refused",
            actor=actor,
            target=name or None,
            detail={"reason": refusal.type},
        )
        await db.commit()

    # -- reading and changing ---------------------------------------------------------

    async def list(
        self,
        db: AsyncSession,
        owner: Person,
        *,
        category: str | None = None,
        label: str | None = None,
        q: str | None = None,
    ) -> Sequence[Document]:
        query = select(Document).where(Document.owner_id == owner.id)
        if category:
            query = query.where(
                Document.search_text.contains(f"|c:{category}|".casefold(), autoescape=True)
            )
        if label:
            query = query.where(
                Document.search_text.contains(f"|l:{label}|".casefold(), autoescape=True)
            )
        if q:
            words = q.casefold().split()[:10]
            query = query.where(*(Document.search_text.contains(w, autoescape=True) for w in words))
        return (await db.scalars(query.order_by(Document.created_at.desc()))).all()

    async def get(self, db: AsyncSession, owner: Person, document_id: uuid.UUID) -> Document:
        document = await db.get(Document, document_id)
        if document is None or document.owner_id != owner.id:
            raise NotFound("This document does not exist.", type="document-not-found")
        return document

    async def update(
        self,
        db: AsyncSession,
        owner: Person,
        document_id: uuid.UUID,
        *,
        name: str | None,
        categories: list[str] | None,
        labels: list[str] | None,
        actor: Actor,
    ) -> Document:
        document = await self.get(db, owner, document_id)
        changes: dict[str, str] = {}
        if name is not None:
            name = clean_name(name)
            if check_extension(name) != check_extension(document.name):
                raise Invalid(
                    "A document keeps its file type when it is renamed.",
                    type="document-extension-changed",
                )
            changes["renamed_from"] = document.name
            document.name = name
        new_categories, new_labels = check_tags(
            document.categories if categories is None else categories,
            document.labels if labels is None else labels,
        )
        document.categories, document.labels = new_categories, new_labels
        document.search_text = _search_text(document.name, new_categories, new_labels)
        await audit.record(
            db,
            subject_id=owner.id,
            action="vault:document:renamed" if name is not None else "vault:document:changed",
            actor=actor,
            target=document.name,
            detail={"document": str(document.id), **changes},
        )
        await db.commit()
        return document

    async def delete(
        self, db: AsyncSession, owner: Person, document_id: uuid.UUID, actor: Actor
    ) -> None:
        """Crypto-shred (the wrapped key goes with the row), then remove the fragments."""
        document = await self.get(db, owner, document_id)
        recipients = (
            await db.scalars(
                select(Share.recipient_id).where(
                    Share.document_id == document.id, Share.takes_effect == "now"
                )
            )
        ).all()
        await db.delete(document)  # its shares go with it (foreign key)
        for recipient_id in recipients:
            await audit.record(
                db,
                subject_id=recipient_id,
                action="vault:share:revoked",
                actor=actor,
                target=document.name,
                detail={"owner": owner.full_name, "reason": "deleted"},
            )
        await audit.record(
            db,
            subject_id=owner.id,
            action="vault:document:deleted",
            actor=actor,
            target=document.name,
            detail={"document": str(document.id), "size": document.size},
        )
        await db.commit()
        await self.engine.destroy(document_id)

    async def content(
        self,
        db: AsyncSession,
        document: Document,
        actor: Actor,
        start: int = 0,
        end: int | None = None,
    ) -> AsyncIterator[bytes]:
        """The bytes [start, end] of a document `get` gave its owner; recorded first."""
        stream = await self.stream(document, start, end)
        await audit.record(
            db,
            subject_id=document.holder_id,
            action="vault:document:downloaded",
            actor=actor,
            target=document.name,
            detail={"document": str(document.id)},
        )
        await db.commit()
        return stream

    async def stream(
        self, document: Document, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The bytes [start, end], decrypted as they stream out. Callers check access, and
        call this before they record the reading: it may be refused.

        Refused (410) when a location holds the document's destruction marker: a database
        restored from a backup older than the destruction brought its row and key back, and
        `kluis storage scrub --repair` has not destroyed it again yet (docs/operations.md).
        """
        await self._check_not_destroyed(document)
        return self.engine.read(
            manifest_of(document), document.id, self.unwrap_key(document), start, end
        )

    async def _check_not_destroyed(self, document: Document) -> None:
        if await self.engine.destroyed(document.id):
            log.warning(
                "document %s has a destruction marker but a row: a restored backup? "
                "Run `kluis storage scrub --repair`",
                document.id,
            )
            raise DocumentDestroyed()

    async def seal_status(self, db: AsyncSession, document: Document) -> SealStatus | None:
        """For a document from a notary office: whose seal it carries, and if it holds."""
        if document.seal is None:
            return None
        return await self.hooks.check_seal(db, document.seal, document.sha256)

    def unwrap_key(self, document: Document) -> bytes:
        return self.keys.open(document.wrapped_key, data_key_aad(document.id))
