"""Inheritances: what a notary transferred to an heir, read through the estate until the
erasure 24 months after the death. The documents stay where they are (the deceased's,
encrypted under their own keys) until the heir downloads them or copies them into their
own vault; nobody else can reach them this way.

Only what the deceased uploaded or copied into their vault transfers: their own documents.
Deeds are the office's and documents shared with them are their owners'; neither is there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts import NotaryOffice
from idp_bridge import Person
from kluis import audit
from kluis.audit import Actor
from kluis.errors import NotFound
from kluis.text import N_
from succession.models import DeathNotice, Estate, Heir
from vault import Document, Documents


@dataclass(frozen=True)
class Inheritance:
    heir: Heir  # its id is the inheritance's
    estate: Estate
    notice: DeathNotice
    deceased: Person
    office_name: str

    @property
    def deadline(self) -> datetime:
        return self.notice.erase_at


class InheritanceNotFound(NotFound):
    default_type = "inheritance-not-found"


class Inheritances:
    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def _query(self, heir: Person):  # type: ignore[no-untyped-def]
        now = datetime.now(UTC)
        return (
            select(Heir, Estate, DeathNotice, Person, NotaryOffice.name)
            .join(Estate, Estate.id == Heir.estate_id)
            .join(DeathNotice, DeathNotice.id == Estate.notice_id)
            .join(Person, Person.id == Estate.person_id)
            .join(NotaryOffice, NotaryOffice.id == Estate.office_id)
            .where(
                Heir.nrn_index == heir.nrn_index,
                DeathNotice.status == "transferred",
                DeathNotice.erase_at > now,
            )
        )

    async def of(self, db: AsyncSession, heir: Person) -> list[Inheritance]:
        rows = await db.execute(self._query(heir).order_by(Estate.transferred_at.desc()))
        return [Inheritance(*row) for row in rows]

    async def get(self, db: AsyncSession, heir: Person, inheritance_id: uuid.UUID) -> Inheritance:
        row = (await db.execute(self._query(heir).where(Heir.id == inheritance_id))).first()
        if row is None:
            raise InheritanceNotFound(N_("This inheritance does not exist."))
        return Inheritance(*row)

    async def documents_of(self, db: AsyncSession, inheritance: Inheritance) -> Sequence[Document]:
        return (
            await db.scalars(
                select(Document)
                .where(Document.owner_id == inheritance.deceased.id)
                .order_by(Document.name)
            )
        ).all()

    async def document(
        self, db: AsyncSession, heir: Person, inheritance_id: uuid.UUID, document_id: uuid.UUID
    ) -> tuple[Inheritance, Document]:
        inheritance = await self.get(db, heir, inheritance_id)
        document = await db.get(Document, document_id)
        if document is None or document.owner_id != inheritance.deceased.id:
            raise NotFound("This document does not exist.", type="document-not-found")
        return inheritance, document

    async def content(
        self,
        db: AsyncSession,
        heir: Person,
        inheritance: Inheritance,
        document: Document,
        actor: Actor,
        start: int,
        end: int,
    ) -> AsyncIterator[bytes]:
        """Bytes [start, end] of an inherited document; recorded on both sides first."""
        stream = await self.documents.stream(document, start, end)
        await self._record(db, heir, inheritance, document, actor, "downloaded")
        await db.commit()
        return stream

    async def copy(
        self,
        db: AsyncSession,
        heir: Person,
        inheritance_id: uuid.UUID,
        document_id: uuid.UUID,
        actor: Actor,
    ) -> Document:
        """The inherited document in the heir's own vault, theirs from then on (their quota)."""
        inheritance, document = await self.document(db, heir, inheritance_id, document_id)

        async def recorded(_copy: Document) -> None:
            await self._record(db, heir, inheritance, document, actor, "copied", mine=False)

        return await self.documents.copy(
            db,
            document,
            heir,
            origin="copy",
            origin_label=inheritance.deceased.full_name,
            actor=actor,
            also=recorded,
        )

    async def _record(
        self,
        db: AsyncSession,
        heir: Person,
        inheritance: Inheritance,
        document: Document,
        actor: Actor,
        what: str,
        *,
        mine: bool = True,
    ) -> None:
        """In the deceased's history (the estate file) and, unless the copy records it, the
        heir's."""
        action = f"succession:inheritance:{what}"
        await audit.record(
            db,
            subject_id=inheritance.deceased.id,
            action=action,
            actor=actor,
            target=document.name,
            detail={"heir": heir.full_name},
        )
        if mine:
            await audit.record(
                db,
                subject_id=heir.id,
                action=action,
                actor=actor,
                target=document.name,
                detail={"from": inheritance.deceased.full_name},
            )
