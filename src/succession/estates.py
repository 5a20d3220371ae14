"""Estates: a notary looks a person up by NRN (with a reason, on both histories), opens
the estate of a deceased who chose transfer through a notary, records ALL heirs by NRN,
and transfers the vault's content to them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts import NotaryOffice, nrn_digits
from idp_bridge import NationalNumber, Person, masked_nrn, nrn_index, seal_nrn
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.errors import Conflict, Invalid, NotFound
from kluis.keys import KeyProvider
from kluis.text import N_
from succession.access import Notary
from succession.domain import TRANSFER, check_reason, reminder_times
from succession.models import DeathNotice, Estate, Heir, SuccessionTimer
from succession.notices import DeathNotices, estate_of, heir_people

TRANSFERRED = N_(
    "%(office)s transferred to you the inheritance from %(name)s. Download or copy the "
    "documents into your vault before %(deadline)s."
)
MAX_HEIRS = 100


@dataclass(frozen=True)
class Lookup:
    """What a look-up reveals: for a living person (or an unknown number) only that no
    death is recorded."""

    notice: DeathNotice | None
    person: Person | None
    reference_office: NotaryOffice | None
    estate: Estate | None


@dataclass(frozen=True)
class EstateView:
    estate: Estate
    notice: DeathNotice
    person: Person
    heirs: list[tuple[Heir, Person | None, str]]  # with the person, if they have an account


def may_open(notice: DeathNotice) -> bool:
    """An estate is opened on a notice of option 1 that has none yet."""
    return notice.option == TRANSFER and notice.status == "awaiting-notary"


class NoEstate(NotFound):
    default_type = "estate-not-found"
    default_message = N_("This estate does not exist.")


class Estates:
    def __init__(
        self,
        keys: KeyProvider,
        notices: DeathNotices,
        notifications: Notifications,
    ) -> None:
        self.keys = keys
        self.notices = notices
        self.notifications = notifications

    # -- look-up ---------------------------------------------------------------------

    async def lookup(self, db: AsyncSession, *, nrn: str, reason: str, notary: Notary) -> Lookup:
        """Recorded in the person's history (living or not) and in the office's."""
        reason = check_reason(reason)
        digits = nrn_digits(nrn)
        person, notice = await self.notices.by_nrn(db, digits)
        found = Lookup(None, None, None, None)
        if notice is not None and person is not None:
            found = await self.about(db, notice, person)
        detail = {"reason": reason, "office": notary.office_name, "death_recorded": bool(notice)}
        # A living person's name is not revealed, not even to the office's history.
        target = found.person.full_name if found.person is not None else _masked(digits)
        entries = [
            audit.Entry(
                notary.office_id, "succession:lookup", notary.actor, target=target, detail=detail
            )
        ]
        if person is not None:
            entries.append(audit.Entry(person.id, "succession:lookup", notary.actor, detail=detail))
        await audit.record_all(db, entries)
        await db.commit()
        return found

    async def about(self, db: AsyncSession, notice: DeathNotice, person: Person) -> Lookup:
        """What a look-up shows of a person whose death is recorded (nothing is recorded)."""
        office_id = person.preferred_office_id
        office = await db.get(NotaryOffice, office_id) if office_id else None
        return Lookup(notice, person, office, await estate_of(db, notice))

    # -- the estate ------------------------------------------------------------------

    async def open(self, db: AsyncSession, *, nrn: str, reason: str, notary: Notary) -> EstateView:
        reason = check_reason(reason)
        person, notice = await self.notices.by_nrn(db, nrn_digits(nrn))
        if notice is None or person is None:
            raise NotFound(
                "No death is recorded for this national registry number.",
                type="no-death-recorded",
            )
        if notice.option != TRANSFER:
            raise Conflict(
                "This person chose not to have their vault transferred through a notary.",
                type="no-transfer-option",
            )
        if not may_open(notice):
            raise Conflict(
                "An estate is already open for this person, or their vault is erased.",
                type="estate-exists",
            )
        estate = Estate(
            notice_id=notice.id,
            person_id=person.id,
            office_id=notary.office_id,
            reference=reason,
            opened_by=notary.person.full_name,
        )
        db.add(estate)
        try:
            await db.flush()
        except IntegrityError as exc:  # another notary opened it at the same moment
            await db.rollback()
            raise Conflict(
                "An estate is already open for this person.", type="estate-exists"
            ) from exc
        notice.status = "estate-opened"
        await self._record(db, estate, person, notary, "succession:estate:opened", {})
        await db.commit()
        return EstateView(estate, notice, person, [])

    async def get(self, db: AsyncSession, estate_id: uuid.UUID, notary: Notary) -> EstateView:
        """An estate of the notary's office; any other does not exist for them."""
        row = (
            await db.execute(
                select(Estate, DeathNotice, Person)
                .join(DeathNotice, DeathNotice.id == Estate.notice_id)
                .join(Person, Person.id == Estate.person_id)
                .where(Estate.id == estate_id, Estate.office_id == notary.office_id)
            )
        ).first()
        if row is None:
            raise NoEstate()
        estate, notice, person = row
        heirs = await self._heirs(db, [estate.id])
        return EstateView(estate, notice, person, heirs.get(estate.id, []))

    async def of_office(self, db: AsyncSession, notary: Notary) -> list[EstateView]:
        rows = (
            await db.execute(
                select(Estate, DeathNotice, Person)
                .join(DeathNotice, DeathNotice.id == Estate.notice_id)
                .join(Person, Person.id == Estate.person_id)
                .where(Estate.office_id == notary.office_id)
                .order_by(Estate.created_at.desc())
            )
        ).all()
        heirs = await self._heirs(db, [e.id for e, _n, _p in rows])
        return [EstateView(e, n, p, heirs.get(e.id, [])) for e, n, p in rows]

    async def set_heirs(
        self, db: AsyncSession, estate_id: uuid.UUID, nrns: list[str], notary: Notary
    ) -> EstateView:
        """ALL heirs, by NRN: the list replaces the one recorded so far."""
        view = await self.get(db, estate_id, notary)
        self._check_open(view)
        digits = self._check_heirs(nrns, view.person)
        for heir in await db.scalars(select(Heir).where(Heir.estate_id == view.estate.id)):
            await db.delete(heir)
        await db.flush()
        for number in digits:
            db.add(
                Heir(
                    estate_id=view.estate.id,
                    nrn_index=nrn_index(self.keys, number),
                    nrn_sealed=seal_nrn(self.keys, number),
                )
            )
        await db.flush()
        await self._record(
            db, view.estate, view.person, notary, "succession:estate:heirs", {"heirs": len(digits)}
        )
        await db.commit()
        return await self.get(db, estate_id, notary)

    async def transfer(self, db: AsyncSession, estate_id: uuid.UUID, notary: Notary) -> EstateView:
        """Hand the vault's content to every heir, until the erasure 24 months after death."""
        view = await self.get(db, estate_id, notary)
        notice = await db.get(DeathNotice, view.notice.id, with_for_update=True)
        assert notice is not None
        self._check_open(view)
        if not view.heirs:
            raise Conflict("Record the heirs before the transfer.", type="heirs-missing")
        now = datetime.now(UTC)
        view.estate.transferred_at = now
        notice.status = "transferred"
        for label, due in reminder_times(notice.erase_at, now).items():
            db.add(SuccessionTimer(notice_id=notice.id, kind="reminder", due_at=due, label=label))
        params = {
            "office": notary.office_name,
            "name": view.person.full_name,
            "deadline": notice.erase_at.date().isoformat(),
        }
        for person in await heir_people(db, view.estate.id):
            await audit.record(
                db,
                subject_id=person.id,
                action="succession:inheritance:received",
                actor=notary.actor,
                target=view.person.full_name,
                detail={"office": notary.office_name, "deadline": params["deadline"]},
            )
            await self.notifications.notify(
                db, person, "succession", TRANSFERRED, params, link="/inheritances"
            )
        await self._record(
            db,
            view.estate,
            view.person,
            notary,
            "succession:estate:transferred",
            {"heirs": len(view.heirs), "deadline": params["deadline"]},
        )
        await db.commit()
        return await self.get(db, estate_id, notary)

    # -- internals ---------------------------------------------------------------------

    def _check_open(self, view: EstateView) -> None:
        if view.notice.status == "transferred" or view.estate.transferred_at is not None:
            raise Conflict(
                "This estate was already transferred to the heirs.", type="already-transferred"
            )
        if view.notice.status != "estate-opened":
            raise Conflict("This estate can no longer be changed.", type="estate-closed")

    def _check_heirs(self, nrns: list[str], deceased: Person) -> list[str]:
        if not isinstance(nrns, list) or not nrns:
            raise Invalid("Record at least one heir.", type="heirs-missing")
        if len(nrns) > MAX_HEIRS:
            raise Invalid("At most %(max)s heirs.", type="heirs-invalid", params={"max": MAX_HEIRS})
        digits = [nrn_digits(n) for n in nrns]
        if len(set(digits)) != len(digits):
            raise Invalid("An heir appears twice in the list.", type="heir-duplicate")
        if deceased.nrn_index in {nrn_index(self.keys, d) for d in digits}:
            raise Invalid("The deceased cannot be their own heir.", type="heir-is-deceased")
        return digits

    async def _heirs(
        self, db: AsyncSession, estate_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[tuple[Heir, Person | None, str]]]:
        """The heirs of these estates, by estate: each with their person, if they have an
        account, and their masked number."""
        rows = await db.execute(
            select(Heir, Person)
            .outerjoin(Person, Person.nrn_index == Heir.nrn_index)
            .where(Heir.estate_id.in_(estate_ids))
            .order_by(Heir.created_at)
        )
        found: dict[uuid.UUID, list[tuple[Heir, Person | None, str]]] = {}
        for heir, person in rows:
            masked = masked_nrn(self.keys, heir.nrn_sealed)
            found.setdefault(heir.estate_id, []).append((heir, person, masked))
        return found

    async def _record(
        self,
        db: AsyncSession,
        estate: Estate,
        person: Person,
        notary: Notary,
        action: str,
        detail: dict[str, object],
    ) -> None:
        """An estate's step, in the deceased's history and the office's."""
        detail = {"office": notary.office_name, "reference": estate.reference, **detail}
        await audit.record(
            db, subject_id=person.id, action=action, actor=notary.actor, detail=detail
        )
        await audit.record(
            db,
            subject_id=estate.office_id,
            action=action,
            actor=notary.actor,
            target=person.full_name,
            detail=detail,
        )


def _masked(digits: str) -> str:
    return NationalNumber(digits=digits, birth_date=None).masked
