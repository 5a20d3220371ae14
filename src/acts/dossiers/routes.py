"""HTTP for dossiers: open, list, read and update them; their documents, tab by tab; their
messages, both ways. The office side is a member of the dossier's office or its software;
the client side a client in person or through a company. Anyone else finds nothing (404);
a client asking for what only the office does gets 403 `office-only`."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import caller_actor, requires_member_or_software
from acts.dossiers.dossiers import Dossiers, DossierView
from acts.dossiers.files import DossierFile, DossierFiles
from acts.dossiers.messages import Message, Messages
from acts.dossiers.schemas import (
    AttachmentOut,
    CompanyRef,
    DossierDocumentOut,
    DossierIn,
    DossierOut,
    DossierPatch,
    MessageIn,
    MessageOut,
    QuotedOut,
    Step,
    Unread,
)
from kluis.errors import Invalid
from kluis.web.multipart import StreamedForm, field
from kluis.web.openapi import FILE, STREAMED_FILE, TEXT, UUID, Download, reads_body
from vault import Documents
from vault.routes.documents import declared_size, download, request_body, seal_out

MAX_JSON_BYTES = 64 * 1024


def dossier_out(view: DossierView) -> DossierOut:
    d = view.dossier
    company = view.company
    return DossierOut(
        id=d.id,
        office_id=d.office_id,
        office=view.office_name,
        reference=d.reference,
        description=d.description,
        status=d.status,
        side=view.side,
        progress=view.progress,
        steps=[Step(label=s["label"], done=bool(s["done"])) for s in d.steps or []],
        company=CompanyRef(
            id=company.id, name=company.name, enterprise_number=company.enterprise_number
        )
        if company
        else None,
        clients=view.clients,
        unread=Unread(**view.unread),
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


async def file_out(
    documents: Documents, db: AsyncSession, found: DossierFile
) -> DossierDocumentOut:
    document, entry = found.document, found.entry
    return DossierDocumentOut(
        id=document.id,
        tab=entry.tab,
        side=entry.side,
        author=entry.author_label,
        name=document.name,
        size=document.size,
        sha256=document.sha256,
        media_type=document.media_type,
        seal=seal_out(await documents.seal_status(db, document)),
        created_at=entry.created_at,
    )


def message_out(message: Message) -> MessageOut:
    original = message.reply_to
    return MessageOut(
        id=message.row.id,
        side=message.row.side,
        author=message.row.author_label,
        subject=message.subject,
        body=message.body,
        reply_to=QuotedOut(
            id=original.row.id,
            author=original.row.author_label,
            subject=original.subject,
            body=original.body,
            created_at=original.row.created_at,
        )
        if original
        else None,
        attachments=[
            AttachmentOut(id=d.id, name=d.name, size=d.size, media_type=d.media_type)
            for d in message.attachments
        ],
        created_at=message.row.created_at,
    )


_MESSAGE_FIELDS = {"subject": TEXT, "body": TEXT, "reply_to": UUID}
MESSAGE_BODY = reads_body(
    "A message, with attachments as multipart/form-data",
    {
        "application/json": Schema(
            type=OpenAPIType.OBJECT,
            required=["subject", "body"],
            properties=_MESSAGE_FIELDS,
            additional_properties=False,
        ),
        "multipart/form-data": Schema(
            type=OpenAPIType.OBJECT,
            required=["subject"],
            properties={
                **_MESSAGE_FIELDS,
                "attachment": Schema(type=OpenAPIType.ARRAY, items=FILE),
            },
        ),
    },
)


async def json_message(request: Request[Any, Any, Any]) -> MessageIn:
    raw = bytearray()
    async for piece in request.stream():
        raw += piece
        if len(raw) > MAX_JSON_BYTES:
            break
    try:
        return msgspec.json.decode(bytes(raw), type=MessageIn)
    except msgspec.DecodeError as exc:
        raise Invalid(
            "This message could not be read.", type="message-invalid", status=400
        ) from exc


def form_uuid(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Invalid(
            "The message replied to is not in this dossier.", type="message-reply-unknown"
        ) from exc


class DossierController(Controller):
    path = "/api/v1/dossiers"
    tags = ["dossiers"]
    guards = [requires_member_or_software]

    @get("/")
    async def list_dossiers(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        office_id: FromQuery[uuid.UUID | None] = None,
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
    ) -> list[DossierOut]:
        """My dossiers as a client and, for an office member or software, the office's;
        `q` searches reference and description, `status` filters."""
        views = await dossiers.list(db, request, office_id=office_id, q=q, status=status)
        return [dossier_out(v) for v in views]

    @post("/", status_code=201)
    async def open_dossier(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        data: JSONBody[DossierIn],
    ) -> DossierOut:
        """Office: open a dossier for clients (NRNs) or a company."""
        member = await dossiers.access.membership(db, request, data.office_id)
        dossier = await dossiers.open(
            db,
            member,
            reference=data.reference,
            description=data.description,
            status=data.status,
            clients=data.clients,
            company=data.company,
            steps=data.steps,
            actor=caller_actor(request),
        )
        return dossier_out(await dossiers.view(db, await dossiers.side(db, request, dossier.id)))

    @get("/{dossier_id:uuid}")
    async def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_id: FromPath[uuid.UUID],
    ) -> DossierOut:
        return dossier_out(await dossiers.view(db, await dossiers.side(db, request, dossier_id)))

    @patch("/{dossier_id:uuid}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_id: FromPath[uuid.UUID],
        data: JSONBody[DossierPatch],
    ) -> DossierOut:
        """Office: status, description, progress list."""
        side = await dossiers.side(db, request, dossier_id)
        await dossiers.update(
            db,
            side,
            description=data.description,
            status=data.status,
            steps=data.steps,
            actor=caller_actor(request),
        )
        return dossier_out(await dossiers.view(db, side))

    # -- documents -----------------------------------------------------------------------

    @get("/{dossier_id:uuid}/documents")
    async def documents_of(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        documents: NamedDependency[Documents],
        dossier_id: FromPath[uuid.UUID],
        tab: FromQuery[str | None] = None,
    ) -> list[DossierDocumentOut]:
        """A tab's documents (`correspondence`, `documents`, `delivered`) or all; opening a
        tab marks it read."""
        side = await dossiers.side(db, request, dossier_id)
        return [await file_out(documents, db, f) for f in await dossier_files.list(db, side, tab)]

    @post(
        "/{dossier_id:uuid}/documents",
        status_code=201,
        request_max_body_size=None,
        operation_class=STREAMED_FILE,
    )
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        documents: NamedDependency[Documents],
        dossier_id: FromPath[uuid.UUID],
        name: FromQuery[str | None] = None,
        tab: FromQuery[str | None] = None,
    ) -> DossierDocumentOut:
        """The body is the file, streamed. Office: `tab` correspondence or documents (sealed);
        client: always `delivered`."""
        side = await dossiers.side(db, request, dossier_id)
        found = await dossier_files.add(
            db,
            side,
            tab=tab,
            name=name,
            body=request_body(request),
            declared_size=declared_size(request),
            actor=caller_actor(request),
        )
        return await file_out(documents, db, found)

    @get("/{dossier_id:uuid}/documents/{document_id:uuid}/content", operation_class=Download)
    async def document_content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        documents: NamedDependency[Documents],
        dossier_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        side = await dossiers.side(db, request, dossier_id)
        found = await dossier_files.get(db, side, document_id)
        return await download(
            request,
            found.document,
            lambda start, end: dossier_files.content(
                db, side, found.document, caller_actor(request), start, end
            ),
            await documents.seal_status(db, found.document),
        )

    # -- messages ------------------------------------------------------------------------

    @get("/{dossier_id:uuid}/messages")
    async def messages_of(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_messages: NamedDependency[Messages],
        dossier_id: FromPath[uuid.UUID],
    ) -> list[MessageOut]:
        """Newest first; marks the messages tab read."""
        side = await dossiers.side(db, request, dossier_id)
        return [message_out(m) for m in await dossier_messages.list(db, side)]

    @post(
        "/{dossier_id:uuid}/messages",
        status_code=201,
        request_max_body_size=None,
        operation_class=MESSAGE_BODY,
    )
    async def send_message(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_messages: NamedDependency[Messages],
        dossier_id: FromPath[uuid.UUID],
    ) -> MessageOut:
        """JSON `{subject, body, reply_to?}`, or multipart/form-data with the same fields
        and then `attachment` files (through the vault pipeline)."""
        side = await dossiers.side(db, request, dossier_id)
        if request.headers.get("content-type", "").startswith("multipart/"):
            form = StreamedForm(request)
            fields = await form.fields()
            data = MessageIn(
                subject=field(fields, "subject"),
                body=(fields.get("body") or [""])[0],
                reply_to=form_uuid(field(fields, "reply_to")),
            )
            attachments = form.files()
        else:
            data, attachments = await json_message(request), None
        message = await dossier_messages.send(
            db,
            side,
            subject=data.subject,
            body=data.body,
            reply_to=data.reply_to,
            attachments=attachments,
            actor=caller_actor(request),
        )
        sent = [m for m in await dossier_messages.list(db, side) if m.row.id == message.id]
        return message_out(sent[0])

    @get(
        "/{dossier_id:uuid}/messages/{message_id:uuid}/attachments/{document_id:uuid}/content",
        operation_class=Download,
    )
    async def attachment_content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        dossier_messages: NamedDependency[Messages],
        documents: NamedDependency[Documents],
        dossier_id: FromPath[uuid.UUID],
        message_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        side = await dossiers.side(db, request, dossier_id)
        document = await dossier_messages.attachment(db, side, message_id, document_id)
        return await download(
            request,
            document,
            lambda start, end: dossier_files.content(
                db, side, document, caller_actor(request), start, end
            ),
            await documents.seal_status(db, document),
        )
