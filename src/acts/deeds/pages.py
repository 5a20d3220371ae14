"""Pages of the deed registry: "My deeds" and a deed's details for a citizen; the office's
deeds with the form that publishes one, for its members."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership
from acts.deeds.domain import FIRST_DEED_DATE, KINDS, today
from acts.deeds.routes import publish_form
from acts.deeds.services import Deeds
from idp_bridge import current, request_actor, requires_login
from kluis.audit import ACTION_LABELS
from kluis.errors import AppError
from kluis.text import N_
from kluis.web.i18n import gettext
from kluis.web.multipart import StreamedForm, check_form_token

ACTION_LABELS.update(
    {
        "acts:deed:published": N_("Notarial deed published"),
        "acts:deed:viewed": N_("Notarial deed viewed"),
        "acts:deed:downloaded": N_("Notarial deed downloaded"),
    }
)
FORM_FIELDS = ("registry_number", "kind", "date", "enterprise_number", "parties")


def _parties(fields: dict[str, list[str]]) -> list[str]:
    """The form's parties: a national registry number a line (or `party` fields)."""
    lines = [line for text in fields.get("parties", []) for line in text.splitlines()]
    return fields.get("party", []) + [p for line in lines for p in line.split(",")]


async def _discard(form: StreamedForm) -> None:
    """Read what is left of a refused form, so the browser gets its answer."""
    try:
        async for part in form.files():
            async for _ in part.body:
                pass
    except AppError:
        pass


class DeedPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    # -- a citizen ----------------------------------------------------------------------

    @get("/deeds")
    async def my_deeds(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
    ) -> Template:
        return Template(
            "acts/my_deeds.html",
            context={
                "deeds": await deeds.mine(db, current(request).person),
                "kinds": KINDS,
                "first_date": FIRST_DEED_DATE,
            },
        )

    @get("/deeds/{deed_id:uuid}")
    async def deed_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        deed_id: FromPath[uuid.UUID],
    ) -> Template:
        person = current(request).person
        view = await deeds.get(db, person, deed_id)
        await deeds.viewed(db, person, view, request_actor(request))
        return Template("acts/deed.html", context={"view": view, "kinds": KINDS})

    # -- inside an office ---------------------------------------------------------------

    @get("/offices/{office_id:uuid}/deeds")
    async def office_deeds(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        office_id: FromPath[uuid.UUID],
        published: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        member = await deeds.access.membership(db, request, office_id)
        return await self._office_page(db, deeds, member, published=published)

    @post("/offices/{office_id:uuid}/deeds", exclude_from_csrf=True, request_max_body_size=None)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        deeds: NamedDependency[Deeds],
        office_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        """The publish form (multipart: its fields, then the PDF). Refused, the form comes
        back with the reason and what was typed."""
        member = await deeds.access.membership(db, request, office_id)
        form = StreamedForm(request)
        fields = await form.fields()
        check_form_token(request, fields)
        fields["party"] = _parties(fields)
        try:
            view = await publish_form(request, db, deeds, member, form, fields)
        except AppError as refusal:
            await _discard(form)
            await db.rollback()
            await db.refresh(member.office)  # for the page, after the rollback expired it
            values = {name: (fields.get(name) or [""])[0] for name in FORM_FIELDS}
            return await self._office_page(
                db,
                deeds,
                member,
                error=gettext(refusal.message, **refusal.params),
                values=values,
                status_code=refusal.status,
            )
        return Redirect(f"/offices/{office_id}/deeds?published={view.deed.id}", status_code=303)

    async def _office_page(
        self,
        db: AsyncSession,
        deeds: Deeds,
        member: Membership,
        *,
        published: uuid.UUID | None = None,
        error: str | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        views = await deeds.of_office(db, member)
        return Template(
            "acts/office_deeds.html",
            context={
                "member": member,
                "deeds": views,
                "kinds": KINDS,
                "published": next((v for v in views if v.deed.id == published), None),
                "error": error,
                "values": values or {},
                "today": today().isoformat(),
                "first_date": FIRST_DEED_DATE.isoformat(),
            },
            status_code=status_code,
        )
