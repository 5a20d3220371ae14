"""The notary's succession desk, inside an office: recording a death, looking a person up
by national registry number (with a reason, recorded on both histories), withdrawing a
wrong notice, opening an estate; then the estate's page: all heirs, and the transfer.

Only the office's notaries reach it. Its staff are told it is for notaries (403); anyone
else, and any other office's id, finds nothing (404). National registry numbers travel in
form bodies only: a look-up's result is the answer to its POST, never a redirect to a URL
that would carry the number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts import NotaryOffice, nrn_digits
from idp_bridge import Person, current, requires_login
from kluis.errors import AppError, Forbidden, Invalid, NotFound
from kluis.settings import Settings
from kluis.text import N_
from succession import Succession
from succession.access import Notary, notary_of, recorder_of
from succession.domain import ENDED, OPTIONS, STATUS_LABELS, TRANSFER
from succession.estates import EstateView, Lookup
from succession.models import DeathNotice, Estate
from succession.pages.common import Refusal, local_time, refusal_of

DESK = "/offices/{office_id:uuid}/succession"
ESTATE = "/offices/{office_id:uuid}/estates/{estate_id:uuid}"


def desk_notary(request: Request[Any, Any, Any], office_id: uuid.UUID) -> Notary:
    """A notary of the office in person. Its other members are told the desk is for
    notaries; for anyone else the office does not exist here."""
    try:
        return notary_of(request, office_id)
    except Forbidden:
        if any(role.scope_id == office_id for role in current(request).roles):
            raise
        raise NotFound("This notary office is not registered.", type="office-not-found") from None


def _office(notary: Notary) -> SimpleNamespace:
    return SimpleNamespace(id=notary.office_id, name=notary.office_name)


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
    withdrawable = (
        notice is not None
        and notice.status not in ENDED
        and notice.office_id in (None, notary.office_id)
        and datetime.now(UTC) < notice.safeguard_until
    )
    can_open = (
        notice is not None and notice.option == TRANSFER and notice.status == "awaiting-notary"
    )
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
    office_id = person.preferred_office_id
    office = await db.get(NotaryOffice, office_id) if office_id else None
    estate = await db.scalar(select(Estate).where(Estate.notice_id == notice.id))
    return found_of(Lookup(notice, person, office, estate), nrn, reason, notary)


def _values(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in names}


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
        values = _values(await request.form(), "nrn", "date_of_death", "reference")
        try:
            notice, _person = await succession.notices.record(
                db,
                nrn=values["nrn"],
                date_of_death=_date_of_death(values["date_of_death"]),
                reference=values["reference"],
                recorder=recorder_of(request, office_id),
            )
        except AppError as refusal:
            await db.rollback()
            return await self._page(
                db,
                succession,
                settings,
                notary,
                refusal=refusal_of(refusal, "record"),
                values={"record": values},
                status_code=refusal.status,
            )
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
        values = _values(await request.form(), "nrn", "reason")
        try:
            lookup = await succession.estates.lookup(
                db, nrn=values["nrn"], reason=values["reason"], notary=notary
            )
        except AppError as refusal:
            await db.rollback()
            return await self._page(
                db,
                succession,
                settings,
                notary,
                refusal=refusal_of(refusal, "lookup"),
                values={"lookup": values},
                status_code=refusal.status,
            )
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
        values = _values(form, "nrn", "reason", "lookup_reason")
        try:
            view = await succession.estates.open(
                db, nrn=values["nrn"], reason=values["reason"], notary=notary
            )
        except AppError as refusal:
            await db.rollback()
            found = await found_again(
                db,
                succession,
                notary,
                _uuid(form.get("notice_id")),
                values["nrn"],
                values["lookup_reason"],
            )
            return await self._page(
                db,
                succession,
                settings,
                notary,
                found=found,
                refusal=refusal_of(refusal, "open"),
                values={"open": values},
                status_code=refusal.status,
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
        values = _values(form, "reason", "nrn", "lookup_reason")
        try:
            await succession.notices.withdraw(db, notice_id, reason=values["reason"], notary=notary)
        except AppError as refusal:
            await db.rollback()
            found = await found_again(
                db, succession, notary, notice_id, values["nrn"], values["lookup_reason"]
            )
            return await self._page(
                db,
                succession,
                settings,
                notary,
                found=found,
                refusal=refusal_of(refusal, "withdraw"),
                values={"withdraw": values},
                status_code=refusal.status,
            )
        return Redirect(f"/offices/{office_id}/succession?withdrawn={notice_id}", status_code=303)

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
                "office": _office(notary),
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
        await succession.estates.get(db, estate_id, notary)  # another office's: 404
        values = _values(await request.form(), "heirs")
        numbers = [line.strip() for line in values["heirs"].splitlines() if line.strip()]
        try:
            await succession.estates.set_heirs(db, estate_id, numbers, notary)
        except AppError as refusal:
            await db.rollback()
            view = await succession.estates.get(db, estate_id, notary)
            return self._page(
                settings,
                notary,
                view,
                refusal=refusal_of(refusal, "heirs"),
                values=values,
                status_code=refusal.status,
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
        await succession.estates.get(db, estate_id, notary)  # another office's: 404
        form = await request.form()
        try:
            if form.get("confirm") != "yes":
                raise Invalid(
                    N_("Tick the box to confirm the transfer to all heirs."),
                    type="confirmation-required",
                )
            await succession.estates.transfer(db, estate_id, notary)
        except AppError as refusal:
            await db.rollback()
            view = await succession.estates.get(db, estate_id, notary)
            return self._page(
                settings,
                notary,
                view,
                refusal=refusal_of(refusal, "transfer"),
                status_code=refusal.status,
            )
        return Redirect(f"/offices/{office_id}/estates/{estate_id}", status_code=303)

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
                "office": _office(notary),
                "view": view,
                "heirs_saved": heirs_saved and refusal is None,
                "refusal": refusal,
                "values": values or {},
                "status_labels": STATUS_LABELS,
                "local": local_time(settings),
            },
            status_code=status_code,
        )
