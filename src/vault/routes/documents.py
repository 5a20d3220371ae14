"""HTTP for the vault: upload (the body is the file, streamed), list, read, change, delete."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import InternalServerException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import current, request_actor, requires_login
from kluis.errors import AppError
from kluis.hooks import SealStatus
from kluis.text import N_
from kluis.web.openapi import STREAMED_FILE, Download
from vault.domain import UploadInterrupted
from vault.models import Document
from vault.schemas import DocumentOut, DocumentPatch, SealOut, Usage
from vault.services import Documents

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(AppError):
    status = 416
    default_type = "range-not-satisfiable"
    default_message = N_("This part of the document does not exist.")


def seal_out(status: SealStatus | None) -> SealOut | None:
    return None if status is None else SealOut(office=status.office_name, verified=status.verified)


def document_out(document: Document, seal: SealStatus | None = None) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        name=document.name,
        size=document.size,
        sha256=document.sha256,
        media_type=document.media_type,
        categories=document.categories,
        labels=document.labels,
        created_at=document.created_at,
        origin=document.origin,
        origin_label=document.origin_label,
        seal=seal_out(seal),
    )


async def request_body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The request body as it streams in; a client that goes away interrupts the upload."""
    try:
        async for piece in request.stream():
            yield piece
    except InternalServerException as exc:  # Litestar's word for a client that went away
        raise UploadInterrupted() from exc


def declared_size(request: Request[Any, Any, Any]) -> int | None:
    """The size a streamed upload says it has (`Content-Length`), if it says one."""
    length = request.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single `bytes=` range as (first, last), or None for the whole document."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        raise RangeNotSatisfiable()
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise RangeNotSatisfiable()
    return start, end


async def download(
    request: Request[Any, Any, Any],
    document: Document,
    open_stream: Callable[[int, int], Awaitable[AsyncIterator[bytes]]],
    seal: SealStatus | None = None,
) -> Response[Any]:
    """A document's bytes as a download, honouring one `Range`; `open_stream(start, end)`
    records the download and gives the decrypted bytes. A checked seal is named in
    `x-kluis-seal` (`verified` or `broken`) and `x-kluis-seal-office`."""
    wanted = parse_range(request.headers.get("range"), document.size)
    start, end = wanted or (0, max(document.size - 1, 0))
    stream = await open_stream(start, end)
    headers = {
        "content-length": str(end - start + 1 if document.size else 0),
        "accept-ranges": "bytes",
        "etag": f'"{document.sha256}"',
        # Always a download, never rendered here: an uploaded HTML or SVG runs nothing.
        "content-disposition": f"attachment; filename*=UTF-8''{quote(document.name)}",
    }
    if seal is not None:
        headers["x-kluis-seal"] = "verified" if seal.verified else "broken"
        headers["x-kluis-seal-office"] = quote(seal.office_name or "")
    if wanted:
        headers["content-range"] = f"bytes {start}-{end}/{document.size}"
    return Stream(
        stream,
        media_type=document.media_type,
        headers=headers,
        status_code=206 if wanted else 200,
    )


class DocumentController(Controller):
    path = "/api/v1"
    tags = ["vault"]
    guards = [requires_login]

    @post("/documents", status_code=201, request_max_body_size=None, operation_class=STREAMED_FILE)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        name: FromQuery[str | None] = None,
        category: FromQuery[list[str] | None] = None,
        label: FromQuery[list[str] | None] = None,
    ) -> DocumentOut:
        """Upload a document: the request body is the file, streamed."""
        document = await documents.upload(
            db,
            current(request).person,
            name=name,
            categories=category or [],
            labels=label or [],
            body=request_body(request),
            declared_size=declared_size(request),
            actor=request_actor(request),
        )
        return document_out(document)

    @get("/documents")
    async def list_documents(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        category: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> list[DocumentOut]:
        found = await documents.list(
            db, current(request).person, category=category, label=label, q=q
        )
        return [document_out(d, await documents.seal_status(db, d)) for d in found]

    @get("/documents/{document_id:uuid}")
    async def get_document(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        document_id: FromPath[uuid.UUID],
    ) -> DocumentOut:
        document = await documents.get(db, current(request).person, document_id)
        return document_out(document, await documents.seal_status(db, document))

    @patch("/documents/{document_id:uuid}")
    async def update_document(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[DocumentPatch],
    ) -> DocumentOut:
        document = await documents.update(
            db,
            current(request).person,
            document_id,
            name=data.name,
            categories=data.categories,
            labels=data.labels,
            actor=request_actor(request),
        )
        return document_out(document)

    @delete("/documents/{document_id:uuid}", status_code=204)
    async def delete_document(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        document_id: FromPath[uuid.UUID],
    ) -> None:
        await documents.delete(db, current(request).person, document_id, request_actor(request))

    @get("/documents/{document_id:uuid}/content", operation_class=Download)
    async def content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        document_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The file, streamed and decrypted on the way out; one `Range` is honoured."""
        document = await documents.get(db, current(request).person, document_id)
        return await download(
            request,
            document,
            lambda start, end: documents.content(db, document, request_actor(request), start, end),
            await documents.seal_status(db, document),
        )

    @get("/usage")
    async def usage(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
    ) -> Usage:
        used, quota = await documents.space(db, current(request).person.id)
        return Usage(used_bytes=used, quota_bytes=quota)
