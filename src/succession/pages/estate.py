"""An estate's page at the notary's desk: all heirs, then the transfer to all of them."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import requires_login
from kluis.errors import AppError, Invalid
from kluis.settings import Settings
from kluis.text import N_
from succession import Succession
from succession.access import Notary
from succession.domain import STATUS_LABELS
from succession.estates import EstateView
from succession.pages.common import (
    Refusal,
    desk_notary,
    form_values,
    local_time,
    office_of,
    refusal_of,
)

ESTATE = "/offices/{office_id:uuid}/estates/{estate_id:uuid}"


class EstatePages(Controller):
    path = ESTATE
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def estate_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
        estate_id: FromPath[uuid.UUID],
        heirs: FromQuery[str | None] = None,
    ) -> Template:
        notary = desk_notary(request, office_id)
        view = await succession.estates.get(db, estate_id, notary)
        return self._page(settings, notary, view, heirs_saved=heirs == "saved")

    @post("/heirs", status_code=303)
    async def set_heirs(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
        estate_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        """ALL heirs, one national registry number a line: the list replaces the last."""
        notary = desk_notary(request, office_id)
        values = form_values(await request.form(), "heirs")
        numbers = [line.strip() for line in values["heirs"].splitlines() if line.strip()]
        try:
            await succession.estates.set_heirs(db, estate_id, numbers, notary)
        except AppError as refusal:
            return await self._refused(
                db, succession, settings, notary, estate_id, refusal, "heirs", values
            )
        return Redirect(f"/offices/{office_id}/estates/{estate_id}?heirs=saved", status_code=303)

    @post("/transfer", status_code=303)
    async def transfer(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
        estate_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        """To every heir at once, once the box confirming it is ticked."""
        notary = desk_notary(request, office_id)
        form = await request.form()
        try:
            if form.get("confirm") != "yes":
                raise Invalid(
                    N_("Tick the box to confirm the transfer to all heirs."),
                    type="confirmation-required",
                )
            await succession.estates.transfer(db, estate_id, notary)
        except AppError as refusal:
            return await self._refused(
                db, succession, settings, notary, estate_id, refusal, "transfer"
            )
        return Redirect(f"/offices/{office_id}/estates/{estate_id}", status_code=303)

    async def _refused(
        self,
        db: AsyncSession,
        succession: Succession,
        settings: Settings,
        notary: Notary,
        estate_id: uuid.UUID,
        refusal: AppError,
        form: str,
        values: dict[str, str] | None = None,
    ) -> Template:
        """The estate again, the refusal shown at `form`; nothing of the refused step kept."""
        await db.rollback()
        view = await succession.estates.get(db, estate_id, notary)
        return self._page(
            settings,
            notary,
            view,
            refusal=refusal_of(refusal, form),
            values=values,
            status_code=refusal.status,
        )

    def _page(
        self,
        settings: Settings,
        notary: Notary,
        view: EstateView,
        *,
        heirs_saved: bool = False,
        refusal: Refusal | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            "succession/estate.html",
            context={
                "office": office_of(notary),
                "view": view,
                "heirs_saved": heirs_saved and refusal is None,
                "refusal": refusal,
                "values": values or {},
                "status_labels": STATUS_LABELS,
                "local": local_time(settings),
            },
            status_code=status_code,
        )
