"""HTTP of the deed registry: an office publishes and lists its deeds (members and the
office's software), a citizen reads the deeds they are a party to."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership, caller_actor, requires_member_or_software
from acts.deeds.domain import KINDS, draft_from, today
from acts.deeds.schemas import DeedOut, OfficeDeedOut
from acts.deeds.services import Deeds, DeedView
from idp_bridge import current, request_actor, requires_login
from kluis.web.multipart import StreamedForm
from kluis.web.openapi import FILE, TEXT, Download, reads_body
from vault.routes.documents import download, seal_out


def deed_out(view: DeedView) -> DeedOut:
    deed, document = view.deed, view.document
    return DeedOut(
        id=deed.id,
        registry_number=deed.registry_number,
        kind=deed.kind,
        date=deed.deed_date,
        office_id=deed.office_id,
        office=view.office_name,
        enterprise_number=deed.enterprise_number,
        parties=view.parties,
        sha256=document.sha256,
        size=document.size,
        seal=seal_out(view.seal),
        published_at=deed.created_at,
    )


def office_deed_out(view: DeedView) -> OfficeDeedOut:
    return OfficeDeedOut(
        **{f: getattr(deed_out(view), f) for f in DeedOut.__struct_fields__},
        published_by=view.deed.published_by,
        document_id=view.document.id,
    )


async def publish_form(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    deeds: Deeds,
    member: Membership,
    form: StreamedForm,
    fields: dict[str, list[str]],
) -> DeedView:
    """Publish from a multipart form whose text fields were read: all of them are checked
    before the PDF streams in."""
    draft = draft_from(fields, today())
    deed = await deeds.publish(db, member, draft, form.files(), caller_actor(request))
    return await deeds.published(db, member, deed.id)


PUBLISH_BODY = reads_body(
    "The deed's fields, then the PDF as `file`",
    {
        "multipart/form-data": Schema(
            type=OpenAPIType.OBJECT,
            required=["registry_number", "kind", "date", "party", "file"],
            properties={
                "registry_number": TEXT,
                "kind": Schema(type=OpenAPIType.STRING, enum=list(KINDS)),
                "date": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
                "enterprise_number": TEXT,
                "party": Schema(type=OpenAPIType.ARRAY, items=Schema(pattern="^[0-9]{11}$")),
                "file": FILE,
            },
        )
    },
)


class OfficeDeedController(Controller):
    """An office's deeds, for its members and its software."""

    path = "/api/v1/offices/{office_id:uuid}/deeds"
    tags = ["deed registry"]
    guards = [requires_member_or_software]

    @get("/")
    async def list_deeds(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        office_id: FromPath[uuid.UUID],
    ) -> list[OfficeDeedOut]:
        """Every deed the office published, newest first."""
        member = await deeds.access.membership(db, request, office_id)
        return [office_deed_out(v) for v in await deeds.of_office(db, member)]

    @post("/", status_code=201, request_max_body_size=None, operation_class=PUBLISH_BODY)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        office_id: FromPath[uuid.UUID],
    ) -> OfficeDeedOut:
        """Publish a deed: multipart/form-data with the text fields `registry_number`,
        `kind`, `date` (YYYY-MM-DD), `enterprise_number` (optional) and `party` (a national
        registry number, once for each party), then the PDF as `file`."""
        member = await deeds.access.membership(db, request, office_id)
        form = StreamedForm(request)
        view = await publish_form(request, db, deeds, member, form, await form.fields())
        return office_deed_out(view)


class DeedController(Controller):
    """My deeds: the deeds I am a party to."""

    path = "/api/v1/deeds"
    tags = ["deed registry"]
    guards = [requires_login]

    @get("/")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
    ) -> list[DeedOut]:
        """Every deed dated from 1 January 2015 to which I am a party, newest first."""
        return [deed_out(v) for v in await deeds.mine(db, current(request).person)]

    @get("/{deed_id:uuid}")
    async def details(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        deed_id: FromPath[uuid.UUID],
    ) -> DeedOut:
        person = current(request).person
        view = await deeds.get(db, person, deed_id)
        await deeds.viewed(db, person, view, request_actor(request))
        return deed_out(view)

    @get("/{deed_id:uuid}/content", operation_class=Download)
    async def content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        deed_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The authentic PDF (one `Range` honoured); the seal, checked, in `x-kluis-seal`."""
        person = current(request).person
        view = await deeds.get(db, person, deed_id)
        return await download(
            request,
            view.document,
            lambda start, end: deeds.content(db, person, view, request_actor(request), start, end),
            view.seal,
        )
