"""HTTP for notary offices as citizens meet them: finding an office, its published seal
keys, and the office vaults (documents exchanged both ways)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import caller_actor, requires_member_or_software
from acts.models import NotaryOffice, OfficeExchange
from acts.office_vault import OfficeDocument, OfficeVault
from acts.schemas import (
    ExchangeOut,
    OfferOut,
    OfficeDocumentOut,
    OfficeOut,
    SendToCitizen,
    SendToOffice,
)
from acts.seals import Seals
from acts.services import NotaryRegister
from idp_bridge import current, request_actor, requires_login
from kluis.web.openapi import STREAMED_FILE, Download
from vault import Documents
from vault.routes.documents import declared_size, document_out, download, request_body, seal_out
from vault.schemas import DocumentOut


def office_out(office: NotaryOffice) -> OfficeOut:
    return OfficeOut(
        id=office.id,
        name=office.name,
        municipality=office.municipality,
        enterprise_number=office.enterprise_number,
        address=office.address,
        email=office.email,
    )


def exchange_out(exchange: OfficeExchange) -> ExchangeOut:
    return ExchangeOut(
        id=exchange.id,
        office_id=exchange.office_id,
        direction=exchange.direction,
        document_id=exchange.document_id,
        confidential=exchange.confidential,
        status=exchange.status,
        created_at=exchange.created_at,
    )


def office_document_out(found: OfficeDocument) -> OfficeDocumentOut:
    document, exchange = found.document, found.exchange
    return OfficeDocumentOut(
        id=document.id,
        name=document.name,
        size=document.size,
        sha256=document.sha256,
        media_type=document.media_type,
        created_at=document.created_at,
        from_citizen=document.origin_label if document.origin == "citizen" else None,
        confidential=bool(exchange and exchange.confidential),
        sealed=document.seal is not None,
    )


@get("/api/v1/offices/{office_id:uuid}/seal-keys", tags=["notary offices"])
async def seal_keys(
    db: NamedDependency[AsyncSession],
    seals: NamedDependency[Seals],
    register: NamedDependency[NotaryRegister],
    office_id: FromPath[uuid.UUID],
) -> dict[str, Any]:
    """An office's public seal keys (JWKS): anyone may check a seal with them."""
    office = await register.office(db, office_id)
    return await seals.published(db, office.id)


class OfficeController(Controller):
    """Citizens and notary offices: finding an office, sending to it, receiving from it."""

    path = "/api/v1"
    tags = ["notary offices"]
    guards = [requires_login]

    @get("/offices")
    async def search(
        self,
        db: NamedDependency[AsyncSession],
        register: NamedDependency[NotaryRegister],
        q: FromQuery[str | None] = None,
    ) -> list[OfficeOut]:
        """Notary offices by name or municipality."""
        return [office_out(o) for o in await register.search(db, q)]

    @post("/documents/{document_id:uuid}/send-to-office", status_code=201)
    async def send_to_office(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[SendToOffice],
    ) -> ExchangeOut:
        """Send a copy of my document to an office vault (`confidential`: notaries only)."""
        exchange = await office_vault.send_to_office(
            db,
            current(request).person,
            document_id,
            data.office_id,
            confidential=data.confidential,
            actor=request_actor(request),
        )
        return exchange_out(exchange)

    @get("/from-offices")
    async def offers(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        documents: NamedDependency[Documents],
    ) -> list[OfferOut]:
        """Documents offices sent me, waiting for me to accept or refuse them."""
        return [
            OfferOut(
                id=o.exchange.id,
                office=o.office.name,
                name=o.document.name,
                size=o.document.size,
                sha256=o.document.sha256,
                media_type=o.document.media_type,
                seal=seal_out(await documents.seal_status(db, o.document)),
                sent_at=o.exchange.created_at,
            )
            for o in await office_vault.offers(db, current(request).person)
        ]

    @get("/from-offices/{exchange_id:uuid}/content", operation_class=Download)
    async def offer_content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        documents: NamedDependency[Documents],
        exchange_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        person = current(request).person
        offer = await office_vault.offer(db, person, exchange_id)
        return await download(
            request,
            offer.document,
            lambda start, end: office_vault.offer_content(
                db, person, offer, request_actor(request), start, end
            ),
            await documents.seal_status(db, offer.document),
        )

    @post("/from-offices/{exchange_id:uuid}/accept", status_code=201)
    async def accept(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        documents: NamedDependency[Documents],
        exchange_id: FromPath[uuid.UUID],
    ) -> DocumentOut:
        """Accept: the document, with the office's seal, enters my vault."""
        document = await office_vault.accept(
            db, current(request).person, exchange_id, request_actor(request)
        )
        return document_out(document, await documents.seal_status(db, document))

    @post("/from-offices/{exchange_id:uuid}/refuse", status_code=204)
    async def refuse(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        exchange_id: FromPath[uuid.UUID],
    ) -> None:
        await office_vault.refuse(db, current(request).person, exchange_id, request_actor(request))


class OfficeVaultController(Controller):
    """An office vault, for the office's members."""

    path = "/api/v1/offices/{office_id:uuid}/documents"
    tags = ["notary offices"]
    guards = [requires_member_or_software]

    @get("/")
    async def list_documents(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        office_id: FromPath[uuid.UUID],
    ) -> list[OfficeDocumentOut]:
        member = await office_vault.membership(db, request, office_id)
        return [office_document_out(d) for d in await office_vault.list(db, member)]

    @post("/", status_code=201, request_max_body_size=None, operation_class=STREAMED_FILE)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        office_id: FromPath[uuid.UUID],
        name: FromQuery[str | None] = None,
    ) -> OfficeDocumentOut:
        """Store a document in the office vault, sealed: the body is the file, streamed."""
        member = await office_vault.membership(db, request, office_id)
        document = await office_vault.upload(
            db,
            member,
            name=name,
            body=request_body(request),
            declared_size=declared_size(request),
            actor=caller_actor(request),
        )
        return office_document_out(OfficeDocument(document, None))

    @get("/{document_id:uuid}/content", operation_class=Download)
    async def content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        office_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        member = await office_vault.membership(db, request, office_id)
        found = await office_vault.get(db, member, document_id)
        return await download(
            request,
            found.document,
            lambda start, end: office_vault.content(db, found, caller_actor(request), start, end),
        )

    @post("/{document_id:uuid}/send", status_code=201)
    async def send(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        office_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[SendToCitizen],
    ) -> ExchangeOut:
        """Offer a document, sealed, to a citizen (by national registry number)."""
        member = await office_vault.membership(db, request, office_id)
        exchange = await office_vault.send_to_citizen(
            db, member, document_id, data.nrn, caller_actor(request)
        )
        return exchange_out(exchange)
