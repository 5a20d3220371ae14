"""The deed registry: offices publish deeds, the parties see them.

A deed's authentic PDF goes through the vault pipeline (scanned, encrypted, fragmented) as
a document held by the publishing office and sealed with the office's seal; the deed row
and its parties (by NRN blind index) are recorded in the same transaction, so a refused
PDF leaves neither a document nor a deed. A citizen finds a deed through their NRN's blind
index, so a deed published before they ever logged in is theirs on their first visit.

History: the publication is recorded in the office's history and in the history of every
party who has an account; a party without one yet has no history to write in (its subject
is a person) and meets the deed itself under "My deeds" when they first log in. Every view
and download is recorded in the viewer's history and the office's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership, OfficeAccess
from acts.deeds.domain import FIRST_DEED_DATE, PDF, DeedDraft, DeedNotPdf, document_name
from acts.models import Deed, DeedParty, NotaryOffice
from acts.seals import Seals
from idp_bridge import Person, nrn_index, seal_nrn
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, Invalid, NotFound
from kluis.hooks import SealStatus
from kluis.keys import KeyProvider
from kluis.text import N_
from kluis.web.multipart import FilePart
from vault import Document, Documents, Holder
from vault.domain import FileTypeNotAllowed

PUBLISHED = N_("%(office)s published a notarial deed to which you are a party.")


class DeedNotFound(NotFound):
    default_type = "deed-not-found"
    default_message = N_("This deed does not exist.")


@dataclass(frozen=True)
class DeedView:
    """A deed as the registry shows it: never its parties' NRNs, only how many there are."""

    deed: Deed
    office_name: str
    document: Document
    parties: int
    seal: SealStatus | None


class Deeds:
    def __init__(
        self,
        documents: Documents,
        seals: Seals,
        notifications: Notifications,
        keys: KeyProvider,
        access: OfficeAccess,
    ) -> None:
        self.documents = documents
        self.seals = seals
        self.notifications = notifications
        self.keys = keys
        self.access = access

    # -- an office publishes ----------------------------------------------------------

    async def publish(
        self,
        db: AsyncSession,
        member: Membership,
        draft: DeedDraft,
        files: AsyncIterator[FilePart],
        actor: Actor,
    ) -> Deed:
        """Store the deed's PDF, sealed, with the deed and its parties, in one transaction."""
        office = member.office
        await self._check_unique(db, office.id, draft.registry_number)
        part = await anext(files, None)
        if part is None or part.field != "file":
            raise Invalid("Please add the deed's PDF.", type="deed-file-missing")
        deed = Deed(
            office_id=office.id,
            registry_number=draft.registry_number,
            kind=draft.kind,
            deed_date=draft.deed_date,
            enterprise_number=draft.enterprise_number,
            published_by=member.label,
        )

        async def record(document: Document) -> None:
            if document.media_type != PDF:
                raise DeedNotPdf()
            document.seal = await self.seals.seal(
                db, office, sha256=document.sha256, name=document.name
            )
            deed.document_id = document.id
            db.add(deed)
            try:
                await db.flush()
            except IntegrityError as exc:  # published at the same moment by someone else
                raise self._exists() from exc
            await self._record_parties(db, office, deed, draft, actor)

        try:
            await self.documents.upload(
                db,
                Holder.office(office.id),
                name=document_name(draft.registry_number),
                categories=[],
                labels=[],
                body=part.body,
                declared_size=None,
                actor=actor,
                also=record,
            )
        except FileTypeNotAllowed as exc:  # its content is not a PDF's
            raise DeedNotPdf() from exc
        return deed

    async def _check_unique(self, db: AsyncSession, office_id: uuid.UUID, number: str) -> None:
        found = await db.scalar(
            select(Deed.id).where(Deed.office_id == office_id, Deed.registry_number == number)
        )
        if found is not None:
            raise self._exists()

    @staticmethod
    def _exists() -> Conflict:
        return Conflict(
            "The office already published a deed with this registry number.",
            type="deed-exists",
        )

    async def _record_parties(
        self,
        db: AsyncSession,
        office: NotaryOffice,
        deed: Deed,
        draft: DeedDraft,
        actor: Actor,
    ) -> None:
        """The parties' rows, the publication in the office's history and in that of every
        party with an account, and a notification to each of them."""
        indexes = []
        for digits in draft.parties:
            index = nrn_index(self.keys, digits)
            indexes.append(index)
            db.add(
                DeedParty(deed_id=deed.id, nrn_index=index, nrn_sealed=seal_nrn(self.keys, digits))
            )
        detail = {"deed": str(deed.id), "kind": deed.kind, "office": office.name}
        await audit.record(
            db,
            subject_id=office.id,
            action="acts:deed:published",
            actor=actor,
            target=deed.registry_number,
            detail={**detail, "parties": len(indexes)},
        )
        people = (await db.scalars(select(Person).where(Person.nrn_index.in_(indexes)))).all()
        for person in people:
            await audit.record(
                db,
                subject_id=person.id,
                action="acts:deed:published",
                actor=actor,
                target=deed.registry_number,
                detail=detail,
            )
            await self.notifications.notify(
                db, person, "deed", PUBLISHED, {"office": office.name}, link=f"/deeds/{deed.id}"
            )

    async def of_office(self, db: AsyncSession, member: Membership) -> list[DeedView]:
        """Every deed the office published, newest first."""
        return await self._views(db, Deed.office_id == member.office.id)

    async def published(self, db: AsyncSession, member: Membership, deed_id: uuid.UUID) -> DeedView:
        found = await self._views(db, Deed.office_id == member.office.id, Deed.id == deed_id)
        if not found:
            raise DeedNotFound()
        return found[0]

    # -- a party sees -----------------------------------------------------------------

    async def mine(self, db: AsyncSession, person: Person) -> list[DeedView]:
        """Every deed dated from 1 January 2015 to which `person` is a party, newest first."""
        return await self._views(db, *self._party(person))

    async def get(self, db: AsyncSession, person: Person, deed_id: uuid.UUID) -> DeedView:
        """A deed of `person`'s; any other does not exist for them."""
        found = await self._views(db, Deed.id == deed_id, *self._party(person))
        if not found:
            raise DeedNotFound()
        return found[0]

    async def viewed(self, db: AsyncSession, person: Person, view: DeedView, actor: Actor) -> None:
        """A party opened the deed: in their history and the office's."""
        await self._both(db, person, view, "acts:deed:viewed", actor)
        await db.commit()

    async def content(
        self, db: AsyncSession, person: Person, view: DeedView, actor: Actor, start: int, end: int
    ) -> AsyncIterator[bytes]:
        """The PDF's bytes [start, end] for a party `get` gave it to; recorded first."""
        stream = await self.documents.stream(view.document, start, end)
        await self._both(db, person, view, "acts:deed:downloaded", actor)
        await db.commit()
        return stream

    # -- internals ---------------------------------------------------------------------

    def _party(self, person: Person) -> tuple[ColumnElement[bool], ...]:
        parties = select(DeedParty.deed_id).where(DeedParty.nrn_index == person.nrn_index)
        return Deed.id.in_(parties), Deed.deed_date >= FIRST_DEED_DATE

    async def _views(self, db: AsyncSession, *where: ColumnElement[bool]) -> list[DeedView]:
        parties = (
            select(func.count())
            .select_from(DeedParty)
            .where(DeedParty.deed_id == Deed.id)
            .scalar_subquery()
        )
        rows = await db.execute(
            select(Deed, NotaryOffice.name, Document, parties)
            .join(NotaryOffice, NotaryOffice.id == Deed.office_id)
            .join(Document, Document.id == Deed.document_id)
            .where(*where)
            .order_by(Deed.deed_date.desc(), Deed.created_at.desc())
        )
        return [
            DeedView(deed, name, document, count, await self.documents.seal_status(db, document))
            for deed, name, document, count in rows.all()
        ]

    async def _both(
        self, db: AsyncSession, person: Person, view: DeedView, action: str, actor: Actor
    ) -> None:
        detail = {"deed": str(view.deed.id), "kind": view.deed.kind, "office": view.office_name}
        for subject in (person.id, view.deed.office_id):
            await audit.record(
                db,
                subject_id=subject,
                action=action,
                actor=actor,
                target=view.deed.registry_number,
                detail=detail,
            )
