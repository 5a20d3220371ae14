"""The periodic sweep: every timer due by a given time, each in a transaction of its own.

- `safeguard` (10 days after the death and the notice): `at_death` shares take effect
  (options 1 and 2); option 2 destroys every document not shared; option 3 destroys every
  document not shared during life, `at_death` shares included.
- `reminder`: heirs who have an account are reminded of the erasure.
- `erase` (24 months after the death): whatever remains of the vault is destroyed.

Running it twice does nothing twice: a timer is closed in the transaction that does its
work, and a withdrawn or voided notice closed its timers already.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from idp_bridge import Person
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis import db as database
from kluis.audit import Actor
from kluis.text import N_
from succession.domain import DESTRUCTION, ENDED, SHARING
from succession.models import DeathNotice, SuccessionTimer
from succession.notices import estate_of, heir_people, tell_heirs
from vault import Destruction, Document, Shares
from vault.models import Share

log = logging.getLogger("kluis.succession")

RULES = Actor(label=N_("Kluis (the after-death rules)"))
REMINDER = N_(
    "Reminder: the inheritance from %(name)s is erased for good on %(deadline)s. Download or "
    "copy into your vault what you want to keep."
)
BATCH = 100


@dataclass
class SweepReport:
    done: dict[str, int] = field(default_factory=dict)
    destroyed: int = 0

    def count(self, kind: str) -> None:
        self.done[kind] = self.done.get(kind, 0) + 1


class Sweep:
    def __init__(
        self, shares: Shares, destruction: Destruction, notifications: Notifications
    ) -> None:
        self.shares = shares
        self.destruction = destruction
        self.notifications = notifications

    async def run(
        self, session_maker: async_sessionmaker[AsyncSession], as_of: datetime
    ) -> SweepReport:
        report = SweepReport()
        while True:
            async with session_maker() as db:
                due = (
                    await db.scalars(
                        select(SuccessionTimer.id)
                        .where(SuccessionTimer.done_at.is_(None), SuccessionTimer.due_at <= as_of)
                        .order_by(SuccessionTimer.due_at)
                        .limit(BATCH)
                    )
                ).all()
            if not due:
                return report
            for timer_id in due:
                async with session_maker() as db:
                    await self._run_one(db, timer_id, as_of, report)

    async def _run_one(
        self, db: AsyncSession, timer_id: uuid.UUID, as_of: datetime, report: SweepReport
    ) -> None:
        timer = await db.get(SuccessionTimer, timer_id, with_for_update=True)
        if timer is None or timer.done_at is not None:  # another sweep took it
            return
        notice = await db.get(DeathNotice, timer.notice_id, with_for_update=True)
        person = await db.get(Person, notice.person_id) if notice is not None else None
        shredded: list[uuid.UUID] = []
        if notice is None or person is None or notice.status in ENDED:
            timer.outcome = "cancelled"
        elif timer.kind == "safeguard":
            shredded = await self._safeguard_over(db, notice, person)
        elif timer.kind == "reminder":
            if await self._superseded(db, timer, notice, as_of):
                timer.outcome = "superseded"
            else:
                await self._remind(db, notice, person)
        else:
            shredded = await self._erase(db, notice, person)
        timer.done_at = as_of
        timer.outcome = timer.outcome or "done"
        await db.commit()
        await self.destruction.remove_fragments(shredded)
        if shredded:
            await database.purge_deleted(db)
        report.count(timer.kind if timer.outcome == "done" else timer.outcome)
        report.destroyed += len(shredded)
        log.info("succession timer %s (%s): %s", timer.id, timer.kind, timer.outcome)

    async def _safeguard_over(
        self, db: AsyncSession, notice: DeathNotice, person: Person
    ) -> list[uuid.UUID]:
        released, doomed = 0, []
        if notice.option == DESTRUCTION:
            shared_in_life = exists().where(
                Share.document_id == Document.id, Share.takes_effect == "now"
            )
            doomed = await self._documents(db, person, ~shared_in_life)
            for share in await db.scalars(
                select(Share).where(Share.owner_id == person.id, Share.takes_effect == "at_death")
            ):
                await db.delete(share)
            notice.status = "destroyed"
        else:
            released = await self.shares.release_at_death(db, person, RULES)
            if notice.option == SHARING:
                shared = exists().where(Share.document_id == Document.id)
                doomed = await self._documents(db, person, ~shared)
                notice.status = "shares-released"
        ids = await self.destruction.shred(
            db, person, doomed, reason=f"option-{notice.option}", actor=RULES
        )
        await audit.record(
            db,
            subject_id=person.id,
            action="succession:safeguard:ended",
            actor=RULES,
            detail={"option": notice.option, "released": released, "destroyed": len(ids)},
        )
        return ids

    async def _erase(
        self, db: AsyncSession, notice: DeathNotice, person: Person
    ) -> list[uuid.UUID]:
        ids = await self.destruction.shred(
            db, person, await self._documents(db, person), reason="retention-over", actor=RULES
        )
        notice.status = "erased"
        await audit.record(
            db,
            subject_id=person.id,
            action="succession:vault:erased",
            actor=RULES,
            detail={"destroyed": len(ids)},
        )
        await tell_heirs(db, notice, person, "succession:inheritance:erased", RULES)
        return ids

    @staticmethod
    async def _superseded(
        db: AsyncSession, timer: SuccessionTimer, notice: DeathNotice, as_of: datetime
    ) -> bool:
        """A sweep that catches up (the scheduler was down, or `--as-of` looks far ahead)
        sends heirs only the latest reminder due, and none once the erasure is due."""
        if notice.erase_at <= as_of:
            return True
        later = select(SuccessionTimer.id).where(
            SuccessionTimer.notice_id == notice.id,
            SuccessionTimer.kind == "reminder",
            SuccessionTimer.done_at.is_(None),
            SuccessionTimer.due_at > timer.due_at,
            SuccessionTimer.due_at <= as_of,
        )
        return await db.scalar(later.limit(1)) is not None

    async def _remind(self, db: AsyncSession, notice: DeathNotice, person: Person) -> None:
        estate = await estate_of(db, notice)
        if estate is None or notice.status != "transferred":
            return
        params = {"name": person.full_name, "deadline": notice.erase_at.date().isoformat()}
        for heir in await heir_people(db, estate.id):
            await self.notifications.notify(
                db, heir, "succession", REMINDER, params, link="/inheritances"
            )
            await audit.record(
                db,
                subject_id=heir.id,
                action="succession:inheritance:reminded",
                actor=RULES,
                target=person.full_name,
                detail={"deadline": params["deadline"]},
            )

    @staticmethod
    async def _documents(
        db: AsyncSession, person: Person, *conditions: object
    ) -> Sequence[Document]:
        query = select(Document).where(Document.owner_id == person.id, *conditions)
        return (await db.scalars(query)).all()
