"""Office vaults: documents exchanged between citizens and notary offices.

A citizen sends a document to an office: a copy, under a key of its own, is then held by
the office (for its notaries only, if the citizen marked it confidential). An office
stores a document in its vault, sealed; sending it to a citizen offers it, and only when
the citizen accepts does a copy, seal and all, enter their vault.

Members reach an office vault through the roles the register gave them at a high-assurance
login; anyone else, and staff for a confidential document, finds nothing there (404).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership, OfficeAccess
from acts.domain import nrn_digits
from acts.models import NotaryOffice, OfficeExchange
from acts.seals import Seals
from acts.services import NotaryRegister
from idp_bridge import People, Person
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, NotFound
from kluis.text import N_
from vault import Document, Documents, Holder

OFFERED = N_("%(office)s sent you a document in Kluis. Accept it to keep it in your vault.")


class OfficeDocumentNotFound(NotFound):
    default_type = "document-not-found"


class ExchangeNotFound(NotFound):
    default_type = "exchange-not-found"


@dataclass(frozen=True)
class OfficeDocument:
    document: Document
    exchange: OfficeExchange | None  # how it came in or went out, if it did


@dataclass(frozen=True)
class Offer:
    exchange: OfficeExchange
    document: Document
    office: NotaryOffice


class OfficeVault:
    def __init__(
        self,
        documents: Documents,
        register: NotaryRegister,
        seals: Seals,
        people: People,
        notifications: Notifications,
        access: OfficeAccess,
    ) -> None:
        self.access = access
        self.documents = documents
        self.register = register
        self.seals = seals
        self.people = people
        self.notifications = notifications

    async def membership(
        self, db: AsyncSession, request: Request[Any, Any, Any], office_id: uuid.UUID
    ) -> Membership:
        return await self.access.membership(db, request, office_id)

    # -- a citizen and an office ---------------------------------------------------------

    async def send_to_office(
        self,
        db: AsyncSession,
        person: Person,
        document_id: uuid.UUID,
        office_id: uuid.UUID,
        *,
        confidential: bool,
        actor: Actor,
    ) -> OfficeExchange:
        document = await self.documents.get(db, person, document_id)
        office = await self.register.office(db, office_id)
        exchange = OfficeExchange(
            office_id=office.id,
            person_id=person.id,
            direction="to_office",
            confidential=confidential,
            status="delivered",
        )

        async def record(copy: Document) -> None:
            exchange.document_id = copy.id
            db.add(exchange)
            await db.flush()
            detail = {"exchange": str(exchange.id), "confidential": confidential}
            await audit.record(
                db,
                subject_id=person.id,
                action="acts:office:document-sent",
                actor=actor,
                target=document.name,
                detail={**detail, "office": office.name},
            )

        await self.documents.copy(
            db,
            document,
            Holder.office(office.id),
            origin="citizen",
            origin_label=person.full_name,
            actor=actor,
            also=record,
        )
        return exchange

    async def offers(self, db: AsyncSession, person: Person) -> list[Offer]:
        """What offices sent `person` and they have not answered yet."""
        rows = await db.execute(
            select(OfficeExchange, Document, NotaryOffice)
            .join(Document, Document.id == OfficeExchange.document_id)
            .join(NotaryOffice, NotaryOffice.id == OfficeExchange.office_id)
            .where(
                OfficeExchange.person_id == person.id,
                OfficeExchange.direction == "to_citizen",
                OfficeExchange.status == "pending",
            )
            .order_by(OfficeExchange.created_at.desc())
        )
        return [Offer(*row) for row in rows.all()]

    async def offer(self, db: AsyncSession, person: Person, exchange_id: uuid.UUID) -> Offer:
        found = [o for o in await self.offers(db, person) if o.exchange.id == exchange_id]
        if not found:
            raise ExchangeNotFound("This document from a notary office does not exist.")
        return found[0]

    async def offer_content(
        self, db: AsyncSession, person: Person, offer: Offer, actor: Actor, start: int, end: int
    ) -> AsyncIterator[bytes]:
        """Look before accepting: recorded in both histories."""
        stream = await self.documents.stream(offer.document, start, end)
        await self._both(db, offer.exchange, offer.document, "acts:office:offer-downloaded", actor)
        await db.commit()
        return stream

    async def accept(
        self, db: AsyncSession, person: Person, exchange_id: uuid.UUID, actor: Actor
    ) -> Document:
        offer = await self.offer(db, person, exchange_id)

        async def accepted(copy: Document) -> None:
            exchange = await db.get(OfficeExchange, exchange_id, populate_existing=True)
            if exchange is None or exchange.status != "pending":
                raise Conflict("This document was already answered.", type="offer-answered")
            exchange.status, exchange.accepted_document_id = "accepted", copy.id
            await self._both(db, exchange, offer.document, "acts:office:offer-accepted", actor)

        return await self.documents.copy(
            db,
            offer.document,
            person,
            origin="office",
            origin_label=offer.office.name,
            seal=offer.document.seal,
            actor=actor,
            also=accepted,
        )

    async def refuse(
        self, db: AsyncSession, person: Person, exchange_id: uuid.UUID, actor: Actor
    ) -> None:
        offer = await self.offer(db, person, exchange_id)
        offer.exchange.status = "refused"
        await self._both(db, offer.exchange, offer.document, "acts:office:offer-refused", actor)
        await db.commit()

    # -- inside the office ------------------------------------------------------------

    async def list(self, db: AsyncSession, member: Membership) -> list[OfficeDocument]:
        query = (
            select(Document, OfficeExchange)
            .outerjoin(
                OfficeExchange,
                (OfficeExchange.document_id == Document.id)
                & (OfficeExchange.direction == "to_office"),
            )
            .where(Document.office_id == member.office.id)
            .order_by(Document.created_at.desc())
        )
        if not member.sees_confidential:
            query = query.where(OfficeExchange.confidential.is_not(True))
        return [OfficeDocument(d, e) for d, e in (await db.execute(query)).all()]

    async def get(
        self, db: AsyncSession, member: Membership, document_id: uuid.UUID
    ) -> OfficeDocument:
        found = [d for d in await self.list(db, member) if d.document.id == document_id]
        if not found:
            raise OfficeDocumentNotFound("This document does not exist.")
        return found[0]

    async def upload(
        self,
        db: AsyncSession,
        member: Membership,
        *,
        name: str | None,
        body: AsyncIterator[bytes],
        declared_size: int | None,
        actor: Actor,
    ) -> Document:
        """Into the office vault, scanned and encrypted like any upload, and sealed."""

        async def sealed(document: Document) -> None:
            document.seal = await self.seals.seal(
                db, member.office, sha256=document.sha256, name=document.name
            )

        return await self.documents.upload(
            db,
            Holder.office(member.office.id),
            name=name,
            categories=[],
            labels=[],
            body=body,
            declared_size=declared_size,
            actor=actor,
            also=sealed,
        )

    async def send_to_citizen(
        self,
        db: AsyncSession,
        member: Membership,
        document_id: uuid.UUID,
        nrn: str,
        actor: Actor,
    ) -> OfficeExchange:
        document = (await self.get(db, member, document_id)).document
        citizen = await self.people.by_nrn(db, nrn_digits(nrn))
        if citizen is None:
            raise NotFound(
                "Nobody with this national registry number has a vault yet.",
                type="person-not-found",
            )
        if document.seal is None:  # a document a citizen sent in: the office vouches now
            document.seal = await self.seals.seal(
                db, member.office, sha256=document.sha256, name=document.name
            )
        exchange = OfficeExchange(
            office_id=member.office.id,
            person_id=citizen.id,
            direction="to_citizen",
            document_id=document.id,
            confidential=False,
            status="pending",
        )
        db.add(exchange)
        await db.flush()
        await self._both(db, exchange, document, "acts:office:offered", actor)
        await self.notifications.notify(
            db, citizen, "office", OFFERED, {"office": member.office.name}, link="/from-offices"
        )
        await db.commit()
        return exchange

    async def content(
        self, db: AsyncSession, found: OfficeDocument, actor: Actor, start: int, end: int
    ) -> AsyncIterator[bytes]:
        """A document `get` gave a member; recorded in the office's history."""
        return await self.documents.content(db, found.document, actor, start, end)

    # -- internals ---------------------------------------------------------------------

    async def _both(
        self,
        db: AsyncSession,
        exchange: OfficeExchange,
        document: Document,
        action: str,
        actor: Actor,
    ) -> None:
        """One event in the citizen's history and one in the office's."""
        office_name = await self.register.office_name(db, exchange.office_id)
        for subject in (exchange.person_id, exchange.office_id):
            await audit.record(
                db,
                subject_id=subject,
                action=action,
                actor=actor,
                target=document.name,
                detail={"exchange": str(exchange.id), "office": office_name or ""},
            )
