"""The chains: events, heads, writing, verifying and anchoring (see the package)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    case,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import ReturningInsert, Update
from sqlalchemy.sql.elements import BindParameter
from uuid_utils.compat import uuid7

from kluis.db import HISTORY_KEY
from kluis.keys.base import KeyProvider

# Events that concern no identified person (a refused login before we knew who) belong to
# the platform's own history.
PLATFORM_SUBJECT = uuid.UUID(int=0)
GENESIS = "0" * 64


# Both tables take time-ordered ids (UUIDv7): a new row's key lands at the right edge of the
# primary key's index, where the rows before it were written, not on a random page of an
# index that grows with every request (docs/benchmarks.md, "Scale").
class HistoryHead(UUIDv7Base):
    __tablename__ = "history_heads"
    subject_id: Mapped[uuid.UUID] = mapped_column(GUID, unique=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC of subject, seq and hash (`head_mac`); empty only on heads written before
    # anchoring existed, until `kluis audit anchor` has run.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)


class HistoryEvent(UUIDv7Base):
    __tablename__ = "history_events"
    # Read only within one subject's history, so this constraint's index serves every read
    # (migration 0011 dropped the others).
    __table_args__ = (UniqueConstraint("subject_id", "seq"),)

    subject_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("history_heads.subject_id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


_HEADS = cast(Table, HistoryHead.__table__)
_EVENTS = cast(Table, HistoryEvent.__table__)
_EVENT_COLUMNS = [c.key for c in _EVENTS.columns if c.key != "sa_orm_sentinel"]


@dataclass(frozen=True)
class Actor:
    """Who did something, and from where. `label` is what the history page shows: a
    person's name, or a message id (marked with `N_`) translated when shown."""

    label: str
    id: uuid.UUID | None = None
    ip: str | None = None
    user_agent: str | None = None

    def with_identity(self, id: uuid.UUID, label: str) -> Actor:
        return Actor(label=label, id=id, ip=self.ip, user_agent=self.user_agent)


@dataclass(slots=True)
class WrittenEvent:
    """A history entry as `record_all` wrote it: its row's values. Not a `HistoryEvent`:
    building the ORM object cost more than hashing the entry, and nothing needs it."""

    id: uuid.UUID
    subject_id: uuid.UUID
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_label: str
    action: str
    target: str | None
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str = ""


def event_hash(event: HistoryEvent | WrittenEvent) -> str:
    canonical = json.dumps(
        {
            "subject": str(event.subject_id),
            "seq": event.seq,
            "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": str(event.actor_id) if event.actor_id else None,
            "actor_label": event.actor_label,
            "action": event.action,
            "target": event.target,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "detail": event.detail,
            "prev": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# What `verify` says of a head written before anchoring existed, which `anchor` may anchor.
NOT_ANCHORED = "head not anchored"


def anchoring_key(keys: KeyProvider) -> bytes:
    """The secret heads are anchored with; sessions carry it in `info` (kluis.db)."""
    return keys.derive_secret("history-heads")


def head_mac(key: bytes, subject_id: uuid.UUID, seq: int, last: str) -> str:
    return hmac.new(key, f"{subject_id}:{seq}:{last}".encode(), hashlib.sha256).hexdigest()


def _key_of(db: AsyncSession) -> bytes:
    key = db.info.get(HISTORY_KEY)
    if not isinstance(key, bytes):
        raise RuntimeError("history needs a session that holds the anchoring key (kluis.db)")
    return key


@dataclass(frozen=True)
class Entry:
    """One history entry to write (`record_all`)."""

    subject_id: uuid.UUID
    action: str
    actor: Actor
    target: str | None = None
    detail: dict[str, Any] | None = None


# The statements of `record_all`, built once and so compiled once. (SQLAlchemy caches no
# INSERT with several rows of VALUES: several rows go as a list of parameters, which it
# sends as one statement.)


@functools.cache
def _lock_heads_statement(dialect: str) -> ReturningInsert[Any]:
    """Creates the heads that are missing and locks the others: the conflict's no-op update
    takes a row lock on PostgreSQL, and on SQLite, whose writers are serialised, the write
    lock before any head is read."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(_HEADS)
    return statement.on_conflict_do_update(
        index_elements=["subject_id"], set_={"subject_id": statement.excluded.subject_id}
    ).returning(_HEADS.c.subject_id, _HEADS.c.seq, _HEADS.c.hash)


def _name(table: Table, column: str, n: int) -> str:
    """The parameter for row `n`'s `column` of `table`, in a statement built once for a
    number of rows; the table in the name keeps the events' apart from the heads'."""
    return f"{table.name}_{column}_{n}"


def _numbered(table: Table, column: str, n: int) -> BindParameter[Any]:
    return bindparam(_name(table, column, n), type_=table.c[column].type)


def _numbered_values(table: Table, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of `_numbered` for these rows."""
    return {_name(table, c, n): value for n, row in enumerate(rows) for c, value in row.items()}


@functools.cache
def _move_heads_statement(count: int) -> Update:
    """Sets each of `count` heads to its chain's new last event, in one statement."""
    subjects = [_numbered(_HEADS, "subject_id", n) for n in range(count)]
    whens = list(enumerate(_HEADS.c.subject_id == subject for subject in subjects))
    return (
        _HEADS.update()
        .where(_HEADS.c.subject_id.in_(subjects))
        .values(
            seq=case(*((when, _numbered(_HEADS, "seq", n)) for n, when in whens)),
            hash=case(*((when, _numbered(_HEADS, "hash", n)) for n, when in whens)),
            mac=case(*((when, _numbered(_HEADS, "mac", n)) for n, when in whens)),
        )
    )


# Up to this many entries, PostgreSQL inserts them and moves the heads in one statement
# (13 parameters an entry, far below its limit of 32 767 a statement); more go as two.
_ONE_STATEMENT_ENTRIES = 64


@functools.cache  # at most 64 × 64 shapes: entries, and heads no more than entries
def _append_statement(events: int, heads: int) -> Update:
    """PostgreSQL only: inserts `events` events and moves `heads` heads in one statement,
    the insert as a data-modifying WITH, which PostgreSQL runs whether or not the update
    reads it. One round trip less for every request that records something.

    The rows come as SELECTs joined by UNION ALL, not as a multi-row VALUES: SQLAlchemy
    does not cache the compiled form of a multi-row VALUES, and compiling this statement
    anew took longer (0.6 ms) than the round trip it saves."""
    rows = union_all(
        *(
            select(*(_numbered(_EVENTS, c, n).label(c) for c in _EVENT_COLUMNS))
            for n in range(events)
        )
    )
    appended = _EVENTS.insert().from_select(_EVENT_COLUMNS, rows).cte("appended")
    return _move_heads_statement(heads).add_cte(appended)


async def _locked_heads(
    db: AsyncSession, subject_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, str]]:
    """Each chain's last sequence number and hash, locked until the transaction ends.
    PostgreSQL locks the rows in the order given: sorted, two writers of the same chains
    cannot each hold one the other waits for."""
    rows = await db.execute(
        _lock_heads_statement(db.bind.dialect.name),
        [
            {"id": uuid7(), "subject_id": subject_id, "seq": 0, "hash": GENESIS}
            for subject_id in sorted(subject_ids)
        ],
    )
    return {subject_id: (seq, last) for subject_id, seq, last in rows}


async def record_all(db: AsyncSession, entries: Sequence[Entry]) -> list[WrittenEvent]:
    """Append entries to their subjects' chains, in the caller's transaction and in order.

    Three statements whatever the number of entries (lock the heads, insert the events, move
    the heads; on PostgreSQL the last two are one, `_append_statement`), on the tables
    rather than through the ORM's unit of work: history entries are part of most requests
    that change something, and the flush cost more than the database."""
    if not entries:
        return []
    key = _key_of(db)
    heads = await _locked_heads(db, list({e.subject_id for e in entries}))
    events = []
    at = datetime.now(UTC)
    for entry in entries:
        seq, prev_hash = heads[entry.subject_id]
        event = WrittenEvent(
            id=uuid7(),
            subject_id=entry.subject_id,
            seq=seq + 1,
            at=at,
            actor_id=entry.actor.id,
            actor_label=entry.actor.label,
            action=entry.action,
            target=entry.target,
            ip=entry.actor.ip,
            user_agent=(entry.actor.user_agent or "")[:300] or None,
            detail=entry.detail or {},
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event)
        heads[entry.subject_id] = (event.seq, event.hash)
        events.append(event)
    moved = _numbered_values(
        _HEADS,
        [
            {
                "subject_id": subject,
                "seq": seq,
                "hash": last,
                "mac": head_mac(key, subject, seq, last),
            }
            for subject, (seq, last) in heads.items()
        ],
    )
    rows = [{c: getattr(e, c) for c in _EVENT_COLUMNS} for e in events]
    if db.bind.dialect.name == "postgresql" and len(events) <= _ONE_STATEMENT_ENTRIES:
        appended = _numbered_values(_EVENTS, rows)
        await db.execute(_append_statement(len(events), len(heads)), moved | appended)
    else:  # SQLite has no INSERT inside a WITH
        await db.execute(_EVENTS.insert(), rows)
        await db.execute(_move_heads_statement(len(heads)), moved)
    return events


async def record(
    db: AsyncSession,
    *,
    subject_id: uuid.UUID,
    action: str,
    actor: Actor,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> WrittenEvent:
    """Append one event to `subject_id`'s chain, in the caller's transaction."""
    entry = Entry(subject_id, action, actor, target, detail)
    return (await record_all(db, [entry]))[0]


@dataclass
class ChainReport:
    subjects: int = 0
    events: int = 0
    broken: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.broken


async def verify(db: AsyncSession, subject_id: uuid.UUID | None = None) -> ChainReport:
    """Recompute every chain (or one). Streams events so memory stays flat."""
    key = _key_of(db)
    report = ChainReport()
    heads_query = select(HistoryHead)
    if subject_id is not None:
        heads_query = heads_query.where(HistoryHead.subject_id == subject_id)
    heads = {h.subject_id: h for h in (await db.execute(heads_query)).scalars()}

    events_query = select(HistoryEvent).order_by(HistoryEvent.subject_id, HistoryEvent.seq)
    if subject_id is not None:
        events_query = events_query.where(HistoryEvent.subject_id == subject_id)

    current: uuid.UUID | None = None
    expected_seq, prev = 0, GENESIS

    def close(subject: uuid.UUID, seq: int, last: str) -> None:
        report.subjects += 1
        head = heads.pop(subject, None)
        if subject in report.broken:
            return
        if head is None or (head.seq, head.hash) != (seq, last):
            report.broken[subject] = f"head does not match event {seq} (events removed?)"
        elif head.mac is None:
            report.broken[subject] = NOT_ANCHORED
        elif not hmac.compare_digest(head.mac, head_mac(key, subject, seq, last)):
            report.broken[subject] = "head's anchor does not match (history rewritten?)"

    result = await db.stream(events_query.execution_options(yield_per=500))
    async for event in result.scalars():
        if event.subject_id != current:
            if current is not None:
                close(current, expected_seq, prev)
            current, expected_seq, prev = event.subject_id, 0, GENESIS
        report.events += 1
        expected_seq += 1
        if event.subject_id in report.broken:
            continue
        if event.seq != expected_seq:
            report.broken[event.subject_id] = f"event {expected_seq} missing or out of order"
        elif event.prev_hash != prev:
            report.broken[event.subject_id] = f"event {event.seq} does not follow its predecessor"
        elif event_hash(event) != event.hash:
            report.broken[event.subject_id] = f"event {event.seq} was altered"
        prev = event.hash
    if current is not None:
        close(current, expected_seq, prev)
    for subject, head in heads.items():
        if head.seq:
            report.broken[subject] = "events removed: head without events"
    return report


async def anchor(db: AsyncSession) -> tuple[int, list[uuid.UUID]]:
    """Anchor the heads written before anchoring existed, each only if its chain verifies.
    Returns how many were anchored and the histories refused as broken. Run once, after the
    upgrade that brought anchoring: from then on an unanchored head is a finding of
    `verify`, to be investigated rather than anchored."""
    key, anchored, refused = _key_of(db), 0, []
    unanchored = select(HistoryHead).where(HistoryHead.mac.is_(None))
    for head in (await db.scalars(unanchored)).all():
        report = await verify(db, head.subject_id)
        if set(report.broken.values()) - {NOT_ANCHORED}:
            refused.append(head.subject_id)
            continue
        head.mac = head_mac(key, head.subject_id, head.seq, head.hash)
        anchored += 1
    await db.commit()
    return anchored, refused


async def chain_intact(db: AsyncSession, subject_id: uuid.UUID) -> bool:
    return (await verify(db, subject_id)).ok
