"""The notary's succession desk, inside an office: recording a death, looking a person up
by national registry number (with a reason, recorded on both histories), withdrawing a
wrong notice, opening an estate (its page: succession.pages.estate).

Only the office's notaries reach it. Its staff are told it is for notaries (403); anyone
else, and any other office's id, finds nothing (404). National registry numbers travel in
form bodies only: a look-up's result is the answer to its POST, never a redirect to a URL
that would carry the number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts import nrn_digits
from idp_bridge import Person, requires_login
from kluis.errors import AppError, Invalid
from kluis.settings import Settings
from kluis.text import N_
from succession import Succession
from succession.access import Notary, recorder_of
from succession.domain import ENDED, OPTIONS, STATUS_LABELS
from succession.estates import Lookup, may_open
from succession.models import DeathNotice
from succession.notices import may_withdraw
from succession.pages.common import (
    Refusal,
    desk_notary,
    form_values,
    local_time,
    office_of,
    refusal_of,
)

DESK = "/offices/{office_id:uuid}/succession"


def _date_of_death(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            N_("Give the date of death (year, month and day)."), type="date-of-death-invalid"
        ) from None


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class Found:
    """A look-up's answer, with what the notary typed (posted back by its forms)."""

    lookup: Lookup
    nrn: str
    reason: str
    withdrawable: bool
    can_open: bool
    own_estate: bool


def found_of(lookup: Lookup, nrn: str, reason: str, notary: Notary) -> Found:
    notice, estate = lookup.notice, lookup.estate
    withdrawable = notice is not None and may_withdraw(notice, notary.office_id, datetime.now(UTC))
    can_open = notice is not None and may_open(notice)
    own_estate = estate is not None and estate.office_id == notary.office_id
    return Found(lookup, nrn, reason, withdrawable, can_open, own_estate)


async def found_again(
    db: AsyncSession,
    succession: Succession,
    notary: Notary,
    notice_id: uuid.UUID | None,
    nrn: str,
    reason: str,
) -> Found | None:
    """The look-up's answer again, for a form of it that was refused: only for the notice
    it named and the person it is about (no new look-up, so nothing to record)."""
    notice = await db.get(DeathNotice, notice_id) if notice_id else None
    if notice is None or notice.status in ENDED:
        return None
    try:
        person = await succession.notices.people.by_nrn(db, nrn_digits(nrn))
    except AppError:
        return None
    if person is None or person.id != notice.person_id:
        return None
    lookup = await succession.estates.about(db, notice, person)
    return found_of(lookup, nrn, reason, notary)


class DeskPages(Controller):
    path = DESK
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def desk(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
        recorded: FromQuery[uuid.UUID | None] = None,
        withdrawn: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        notary = desk_notary(request, office_id)
        done = None
        for what, notice_id in (("recorded", recorded), ("withdrawn", withdrawn)):
            notice = await db.get(DeathNotice, notice_id) if notice_id else None
            # Only what this office did (a notice from the registry: whoever withdrew it).
            if notice is not None and notice.office_id in (notary.office_id, None):
                person = await db.get(Person, notice.person_id)
                done = {"what": what, "notice": notice, "name": person.full_name if person else ""}
        return await self._page(db, succession, settings, notary, done=done)

    @post("/deaths", status_code=303)
    async def record(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        notary = desk_notary(request, office_id)
        values = form_values(await request.form(), "nrn", "date_of_death", "reference")
        try:
            notice, _person = await succession.notices.record(
                db,
                nrn=values["nrn"],
                date_of_death=_date_of_death(values["date_of_death"]),
                reference=values["reference"],
                recorder=recorder_of(request, office_id),
            )
        except AppError as refusal:
            return await self._refused(db, succession, settings, notary, refusal, "record", values)
        return Redirect(f"/offices/{office_id}/succession?recorded={notice.id}", status_code=303)

    @post("/lookup", status_code=200)
    async def lookup(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
    ) -> Template:
        """The answer is this page: the number stays in the body, out of every URL."""
        notary = desk_notary(request, office_id)
        values = form_values(await request.form(), "nrn", "reason")
        try:
            lookup = await succession.estates.lookup(
                db, nrn=values["nrn"], reason=values["reason"], notary=notary
            )
        except AppError as refusal:
            return await self._refused(db, succession, settings, notary, refusal, "lookup", values)
        found = found_of(lookup, values["nrn"], values["reason"], notary)
        return await self._page(
            db, succession, settings, notary, found=found, values={"lookup": values}
        )

    @post("/estates", status_code=303)
    async def open_estate(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        notary = desk_notary(request, office_id)
        form = await request.form()
        values = form_values(form, "nrn", "reason", "lookup_reason")
        try:
            view = await succession.estates.open(
                db, nrn=values["nrn"], reason=values["reason"], notary=notary
            )
        except AppError as refusal:
            return await self._refused(
                db,
                succession,
                settings,
                notary,
                refusal,
                "open",
                values,
                notice_id=_uuid(form.get("notice_id")),
            )
        return Redirect(f"/offices/{office_id}/estates/{view.estate.id}", status_code=303)

    @post("/notices/{notice_id:uuid}/withdraw", status_code=303)
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        settings: NamedDependency[Settings],
        office_id: FromPath[uuid.UUID],
        notice_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        notary = desk_notary(request, office_id)
        form = await request.form()
        values = form_values(form, "reason", "nrn", "lookup_reason")
        try:
            await succession.notices.withdraw(db, notice_id, reason=values["reason"], notary=notary)
        except AppError as refusal:
            return await self._refused(
                db, succession, settings, notary, refusal, "withdraw", values, notice_id=notice_id
            )
        return Redirect(f"/offices/{office_id}/succession?withdrawn={notice_id}", status_code=303)

    async def _refused(
        self,
        db: AsyncSession,
        succession: Succession,
        settings: Settings,
        notary: Notary,
        refusal: AppError,
        form: str,
        values: dict[str, str],
        *,
        notice_id: uuid.UUID | None = None,
    ) -> Template:
        """The desk again, the refusal shown at `form` with what was typed; nothing of the
        refused step kept. A form about a looked-up notice shows that look-up again."""
        await db.rollback()
        found = None
        if notice_id is not None:
            found = await found_again(
                db, succession, notary, notice_id, values["nrn"], values["lookup_reason"]
            )
        return await self._page(
            db,
            succession,
            settings,
            notary,
            found=found,
            refusal=refusal_of(refusal, form),
            values={form: values},
            status_code=refusal.status,
        )

    async def _page(
        self,
        db: AsyncSession,
        succession: Succession,
        settings: Settings,
        notary: Notary,
        *,
        found: Found | None = None,
        done: dict[str, Any] | None = None,
        refusal: Refusal | None = None,
        values: dict[str, dict[str, str]] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            "succession/desk.html",
            context={
                "office": office_of(notary),
                "estates": await succession.estates.of_office(db, notary),
                "found": found,
                "done": done,
                "refusal": refusal,
                "values": values or {},
                "status_labels": STATUS_LABELS,
                "options": OPTIONS,
                "local": local_time(settings),
                "today": datetime.now(settings.zone).date().isoformat(),
            },
            status_code=status_code,
        )
