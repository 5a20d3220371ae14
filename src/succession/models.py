"""Tables of succession: death notices, their timers, estates and heirs.

A person's succession is driven by one active death notice at a time. Timers are rows with
a due time, swept by a periodic task (never Celery ETAs: months are longer than any
broker keeps a message). Heirs are recorded by NRN (sealed, with its blind index), so an
heir who has never logged in finds their inheritance at their first login.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from succession.domain import NOTICE_STATUSES, TIMER_KINDS


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DeathNotice(UUIDAuditBase):
    """A death recorded by a notary or pushed by a registry client.

    `status` follows the person's succession (succession.domain); a notice that was
    withdrawn or voided by the person's own login stays as a record and stops everything.
    """

    __tablename__ = "death_notices"
    __table_args__ = (
        CheckConstraint(_in("status", NOTICE_STATUSES), name="status"),
        CheckConstraint("option IN (1, 2, 3)", name="option"),
        # At most one notice in force per person (withdrawn and voided ones are history).
        Index(
            "uq_death_notices_person_in_force",
            "person_id",
            unique=True,
            sqlite_where=text("status NOT IN ('withdrawn', 'voided')"),
            postgresql_where=text("status NOT IN ('withdrawn', 'voided')"),
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    date_of_death: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    # The option in force when the death was recorded: the person cannot change it since.
    option: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    # Who recorded it: a notary of an office, or a registry client (no office).
    office_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="SET NULL"), nullable=True
    )
    recorded_by: Mapped[str] = mapped_column(String(200))
    # Until then a notary may withdraw it, and nothing destructive runs.
    safeguard_until: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # Heirs must have taken what was handed to them by then; it is erased at that time.
    erase_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)


class SuccessionTimer(UUIDAuditBase):
    """One step due at a time: the end of the safeguard, a reminder to heirs, the erasure."""

    __tablename__ = "succession_timers"
    __table_args__ = (
        CheckConstraint(_in("kind", TIMER_KINDS), name="kind"),
        Index("ix_succession_timers_pending", "done_at", "due_at"),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("death_notices.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # Done, or made pointless (a withdrawn notice): either way never run again.
    done_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # For a reminder: how long before the deadline ("12m", "3m", "1m", "1w").
    label: Mapped[str | None] = mapped_column(String(10), nullable=True)


class Estate(UUIDAuditBase):
    """An estate opened by a notary for a deceased person: the heirs, then the transfer."""

    __tablename__ = "estates"
    __table_args__ = (UniqueConstraint("notice_id"),)

    notice_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("death_notices.id", ondelete="CASCADE")
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    office_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(200))  # the estate file
    opened_by: Mapped[str] = mapped_column(String(200))
    transferred_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class Heir(UUIDAuditBase):
    """One heir of an estate; after the transfer, their inheritance."""

    __tablename__ = "heirs"
    __table_args__ = (UniqueConstraint("estate_id", "nrn_index"),)

    estate_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("estates.id", ondelete="CASCADE"), index=True
    )
    nrn_index: Mapped[str] = mapped_column(String(64), index=True)
    nrn_sealed: Mapped[bytes] = mapped_column(LargeBinary)


__all__ = ["DeathNotice", "Estate", "Heir", "SuccessionTimer"]
