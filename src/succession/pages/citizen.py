"""A citizen's succession pages: the choice of what happens to their vault after death
(`/succession`), and what notaries handed them from someone else's (`/inheritances`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts import NotaryOffice
from idp_bridge import current, loa_at_least, request_actor, requires_login
from kluis.errors import AppError, NotFound
from succession import Succession
from succession.domain import DEFAULT_OPTION, DESTRUCTION, OPTIONS, SHARING, TRANSFER
from succession.pages.common import Refusal, refusal_of
from vault import Documents
from vault.pages.documents import human_size


def _option(value: object) -> object:
    """The form's option as a number, or as typed (which the rules then refuse)."""
    text = str(value or "").strip()
    return int(text) if text.isdecimal() else text


class ChoicePages(Controller):
    path = "/succession"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def choice_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        saved: FromQuery[bool] = False,
    ) -> Template:
        return await self._page(request, db, saved=saved)

    @post("/", status_code=303)
    async def choose(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
    ) -> Redirect | Template:
        """Option 3 needs the box ticked (the rules refuse it otherwise), and every change
        a high-assurance login."""
        identity = current(request)
        form = await request.form()
        option = _option(form.get("option"))
        confirmed = form.get("confirm_irreversible") == "yes"
        try:
            await succession.choices.choose(
                db,
                identity.person,
                option,
                confirm_irreversible=confirmed,
                loa=identity.session.loa,
                actor=request_actor(request),
            )
        except AppError as refusal:
            await db.rollback()
            return await self._page(
                request,
                db,
                refusal=refusal_of(refusal, "choice"),
                selected=option if option in OPTIONS else None,
                confirmed=confirmed,
                status_code=refusal.status,
            )
        return Redirect("/succession?saved=true", status_code=303)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        *,
        saved: bool = False,
        refusal: Refusal | None = None,
        selected: object = None,
        confirmed: bool = False,
        status_code: int = 200,
    ) -> Template:
        identity = current(request)
        person = identity.person
        chosen = person.succession_option or DEFAULT_OPTION
        office_id = person.preferred_office_id
        reference = await db.get(NotaryOffice, office_id) if office_id else None
        return Template(
            "succession/choice.html",
            context={
                "chosen": chosen,
                "selected": selected or chosen,
                "confirmed": confirmed,
                "options": OPTIONS,
                "TRANSFER": TRANSFER,
                "SHARING": SHARING,
                "DESTRUCTION": DESTRUCTION,
                "reference": reference,
                "high_assurance": loa_at_least(identity.session.loa, "high"),
                "saved": saved and refusal is None,
                "refusal": refusal,
            },
            status_code=status_code,
        )


class InheritancePages(Controller):
    path = "/inheritances"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def inheritances_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        documents: NamedDependency[Documents],
        copied: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        copy = None
        if copied is not None:
            try:
                copy = await documents.get(db, current(request).person, copied)
            except NotFound:
                copy = None
        return await self._page(request, db, succession, copied=copy)

    @post("/{inheritance_id:uuid}/documents/{document_id:uuid}/copy", status_code=303)
    async def copy(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        inheritance_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        """The inherited document into the heir's own vault; a refusal (no room left, say)
        comes back on the page."""
        try:
            copied = await succession.inheritances.copy(
                db, current(request).person, inheritance_id, document_id, request_actor(request)
            )
        except AppError as refusal:
            await db.rollback()
            return await self._page(
                request,
                db,
                succession,
                refusal=refusal_of(refusal, str(document_id)),
                status_code=refusal.status,
            )
        return Redirect(f"/inheritances?copied={copied.id}", status_code=303)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        succession: Succession,
        *,
        copied: Any = None,
        refusal: Refusal | None = None,
        status_code: int = 200,
    ) -> Template:
        inheritances = succession.inheritances
        found = await inheritances.of(db, current(request).person)
        return Template(
            "succession/inheritances.html",
            context={
                "inheritances": [(i, await inheritances.documents_of(db, i)) for i in found],
                "copied": copied,
                "refusal": refusal,
                "human_size": human_size,
            },
            status_code=status_code,
        )
