"""Death notices: recorded by a notary or the registry, withdrawn by a notary within the
safeguard, voided by the person's own high-assurance login.

Recording one marks the person deceased (their vault frozen, their sessions ended) and
sets the timers of their option. Ending one, either way, undoes that and stops every
pending step: its timers are closed, and heirs lose what an estate handed them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts import nrn_digits
from idp_bridge import LoginRefused, Person, loa_at_least
from idp_bridge.services import People, Sessions
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, NotFound
from kluis.text import N_
from succession.access import Notary, Recorder
from succession.alerts import OfficeAlerts
from succession.domain import (
    ENDED,
    TRANSFER,
    check_date_of_death,
    check_reason,
    check_reference,
    erase_at,
    initial_status,
    safeguard_until,
)
from succession.models import DeathNotice, Estate, Heir, SuccessionTimer

REFERENCE_OFFICE = N_(
    "The death of %(name)s was recorded. You are their reference notary: their vault is to "
    "be transferred to all heirs through a notary."
)
VOIDED = N_(
    "The death notice about %(name)s was voided: they logged in themselves. Every pending "
    "step has stopped."
)


def in_force() -> ColumnElement[bool]:
    return DeathNotice.status.not_in(ENDED)


# Built once: a notary's look-up runs it (bench/scale.py).
_PERSON_AND_NOTICE = (
    select(Person, DeathNotice)
    .outerjoin(DeathNotice, and_(DeathNotice.person_id == Person.id, in_force()))
    .where(Person.nrn_index == bindparam("nrn_index"))
)


async def heir_people(db: AsyncSession, estate_id: uuid.UUID) -> list[Person]:
    """The heirs of an estate who have an account (the others find it at their first login)."""
    return list(
        await db.scalars(
            select(Person)
            .join(Heir, Heir.nrn_index == Person.nrn_index)
            .where(Heir.estate_id == estate_id)
        )
    )


async def estate_of(db: AsyncSession, notice: DeathNotice) -> Estate | None:
    """The estate a notary opened on this notice, if any (one at most)."""
    return await db.scalar(select(Estate).where(Estate.notice_id == notice.id))


def may_withdraw(notice: DeathNotice, office_id: uuid.UUID, now: datetime) -> bool:
    """Within the safeguard, by the office that recorded it (any, for the registry's)."""
    return (
        notice.status not in ENDED
        and notice.office_id in (None, office_id)
        and now < notice.safeguard_until
    )


async def tell_heirs(
    db: AsyncSession,
    notice: DeathNotice,
    deceased: Person,
    action: str,
    actor: Actor,
    reason: str | None = None,
) -> None:
    """An event in the history of every heir the notice's estate was transferred to."""
    estate = await estate_of(db, notice)
    if estate is None or estate.transferred_at is None:
        return
    for heir in await heir_people(db, estate.id):
        await audit.record(
            db,
            subject_id=heir.id,
            action=action,
            actor=actor,
            target=deceased.full_name,
            detail={"reason": reason} if reason else {},
        )


class DeathNotices:
    def __init__(self, people: People, sessions: Sessions, alerts: OfficeAlerts) -> None:
        self.people = people
        self.sessions = sessions
        self.alerts = alerts

    async def of(self, db: AsyncSession, person_id: uuid.UUID) -> DeathNotice | None:
        """The notice in force about a person, if any."""
        return await db.scalar(
            select(DeathNotice).where(DeathNotice.person_id == person_id, in_force())
        )

    async def by_nrn(
        self, db: AsyncSession, digits: str
    ) -> tuple[Person | None, DeathNotice | None]:
        """The person with this number, if they have an account, and the notice in force
        about them, if any: one query."""
        index = self.people.index_of(digits)
        row = (await db.execute(_PERSON_AND_NOTICE, {"nrn_index": index})).one_or_none()
        return (row[0], row[1]) if row is not None else (None, None)

    async def record(
        self,
        db: AsyncSession,
        *,
        nrn: str,
        date_of_death: date,
        reference: str,
        recorder: Recorder,
        now: datetime | None = None,
    ) -> tuple[DeathNotice, Person]:
        now = now or datetime.now(UTC)
        reference = check_reference(reference)
        person = await self.people.by_nrn(db, nrn_digits(nrn))
        if person is None:
            raise NotFound(
                "No vault is kept for this national registry number.", type="person-unknown"
            )
        check_date_of_death(date_of_death, person.birth_date, now.date())
        if await self.of(db, person.id) is not None:
            raise Conflict("A death was already recorded for this person.", type="death-recorded")
        safeguard = safeguard_until(date_of_death, now)
        notice = DeathNotice(
            person_id=person.id,
            date_of_death=date_of_death,
            reference=reference,
            option=person.succession_option,
            status=initial_status(person.succession_option),
            office_id=recorder.office_id,
            recorded_by=recorder.label,
            safeguard_until=safeguard,
            erase_at=erase_at(date_of_death, safeguard),
        )
        db.add(notice)
        try:
            await db.flush()
        except IntegrityError as exc:  # a second notice racing this one
            await db.rollback()
            raise Conflict(
                "A death was already recorded for this person.", type="death-recorded"
            ) from exc
        db.add_all(
            [
                SuccessionTimer(notice_id=notice.id, kind="safeguard", due_at=safeguard),
                SuccessionTimer(notice_id=notice.id, kind="erase", due_at=notice.erase_at),
            ]
        )
        person.deceased_on = date_of_death
        await self.sessions.end_all(db, person.id, "death-recorded", recorder.actor)
        detail = {
            "date_of_death": date_of_death.isoformat(),
            "reference": reference,
            "option": notice.option,
            "office": recorder.office_name,
        }
        await audit.record(
            db,
            subject_id=person.id,
            action="succession:death:recorded",
            actor=recorder.actor,
            detail=detail,
        )
        if recorder.office_id is not None:
            await audit.record(
                db,
                subject_id=recorder.office_id,
                action="succession:death:recorded",
                actor=recorder.actor,
                target=person.full_name,
                detail=detail,
            )
        if notice.option == TRANSFER and person.preferred_office_id is not None:
            await self.alerts.alert(
                db,
                person.preferred_office_id,
                REFERENCE_OFFICE,
                {"name": person.full_name},
                action="succession:reference-office:alerted",
                actor=recorder.actor,
                target=person.full_name,
            )
        await db.commit()
        return notice, person

    async def withdraw(
        self, db: AsyncSession, notice_id: uuid.UUID, *, reason: str, notary: Notary
    ) -> DeathNotice:
        """A wrong notice, taken back before the safeguard ends by a notary of the office
        that recorded it (any notary, for a notice from the registry)."""
        reason = check_reason(reason)
        notice = await db.get(DeathNotice, notice_id, with_for_update=True)
        # The office that recorded it withdraws it; one the registry pushed, any notary.
        if (
            notice is None
            or notice.status in ENDED
            or notice.office_id not in (None, notary.office_id)
        ):
            raise NotFound("This death notice does not exist.", type="notice-not-found")
        if not may_withdraw(notice, notary.office_id, datetime.now(UTC)):
            raise Conflict(
                "The ten days in which a notice can be withdrawn are over.",
                type="safeguard-over",
            )
        person = await self._end(db, notice, "withdrawn", reason, notary.actor)
        await audit.record(
            db,
            subject_id=notary.office_id,
            action="succession:death:withdrawn",
            actor=notary.actor,
            target=person.full_name,
            detail={"reason": reason},
        )
        await db.commit()
        return notice

    async def on_login(self, db: AsyncSession, person: Person, loa: str, actor: Actor) -> None:
        """The login guard: the person themself, on eID or itsme, voids a notice about them
        (alerting every office involved); a weaker login is refused while one is in force."""
        notice = await self.of(db, person.id)
        if notice is None:
            return
        if not loa_at_least(loa, "high"):
            raise LoginRefused("death-recorded")
        estate = await estate_of(db, notice)
        offices = {notice.office_id, person.preferred_office_id, estate and estate.office_id}
        await self._end(db, notice, "voided", "person-logged-in", actor)
        for office_id in offices - {None}:
            assert office_id is not None
            await self.alerts.alert(  # an office since removed from the register: skipped
                db,
                office_id,
                VOIDED,
                {"name": person.full_name},
                action="succession:death:voided",
                actor=actor,
                target=person.full_name,
            )

    async def _end(
        self, db: AsyncSession, notice: DeathNotice, status: str, reason: str, actor: Actor
    ) -> Person:
        """Stop everything the notice set going; in the caller's transaction."""
        person = await db.get(Person, notice.person_id)
        assert person is not None  # foreign key
        now = datetime.now(UTC)
        notice.status, notice.ended_at, notice.end_reason = status, now, reason
        await db.execute(
            update(SuccessionTimer)
            .where(SuccessionTimer.notice_id == notice.id, SuccessionTimer.done_at.is_(None))
            .values(done_at=now, outcome="cancelled")
        )
        person.deceased_on = None
        await audit.record(
            db,
            subject_id=person.id,
            action=f"succession:death:{status}",
            actor=actor,
            detail={"reason": reason, "date_of_death": notice.date_of_death.isoformat()},
        )
        await tell_heirs(db, notice, person, "succession:inheritance:withdrawn", actor, status)
        return person
