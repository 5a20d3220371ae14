"""The history ("Historiek"): append-only events, hash-chained per subject.

Each event's hash covers its own fields and the previous event's hash, and a head row per
subject holds the last sequence number and hash. Editing, deleting or reordering any event
(including the newest) therefore breaks `verify`. Events are written in the caller's
transaction, so a history entry exists exactly when the change it records does.

Action tags read `source:subject:action` (`idp:login:succeeded`). Details never hold an NRN.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from advanced_alchemy.base import UUIDBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Integer,
    Select,
    String,
    Table,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import ReturningInsert, Update
from sqlalchemy.sql.elements import BindParameter

from kluis.text import N_

# Events that concern no identified person (a refused login before we knew who) belong to
# the platform's own history.
PLATFORM_SUBJECT = uuid.UUID(int=0)
GENESIS = "0" * 64


class HistoryHead(UUIDBase):
    __tablename__ = "history_heads"
    subject_id: Mapped[uuid.UUID] = mapped_column(GUID, unique=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class HistoryEvent(UUIDBase):
    __tablename__ = "history_events"
    __table_args__ = (UniqueConstraint("subject_id", "seq"),)

    subject_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("history_heads.subject_id"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
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


# What the history page calls each action; every domain adds its own (message ids).
ACTION_LABELS: dict[str, str] = {}

# What the history page calls each refusal reason (`detail["reason"]`); every domain adds
# its own (message ids).
REASON_LABELS: dict[str, str] = {}

# Actions whose target is a message id (a provider's label) rather than something a person
# named (a document): only these targets are translated when shown.
TRANSLATED_TARGETS: set[str] = set()

# The kinds a citizen filters the history by, in the order the page offers them. A domain
# may add a kind; most only map their actions onto these (`ACTION_KINDS`).
OTHER_KIND = "other"
HISTORY_KINDS: dict[str, str] = {
    "access": N_("Logins and sessions"),
    "documents": N_("Documents"),
    "sharing": N_("Sharing and contacts"),
    "notary": N_("Notaries and deeds"),
    "succession": N_("After death"),
    "account": N_("Account and settings"),
    OTHER_KIND: N_("Other"),
}

# Which kind an action belongs to, keyed by a leading part of its tag (`vault`,
# `vault:document` or a whole tag); every domain adds its own. The longest key that matches
# wins, and an action no key matches is of the kind "other".
ACTION_KINDS: dict[str, str] = {}


def _tag_matches(action: str, key: str) -> bool:
    return action == key or action.startswith(key + ":")


def kind_of(action: str, kinds: dict[str, str] | None = None) -> str:
    kinds = ACTION_KINDS if kinds is None else kinds
    matching = [key for key in kinds if _tag_matches(action, key)]
    return kinds[max(matching, key=len)] if matching else OTHER_KIND


def kind_rules(kind: str, kinds: dict[str, str] | None = None) -> list[tuple[str, list[str]]]:
    """The tag keys of `kind`, each with the longer keys under it that belong to another
    kind: an action is of `kind` exactly when it matches a key and none of that key's
    exceptions (the way `kind_of` decides). "other" is one rule with no key: no key of any
    kind matches."""
    kinds = ACTION_KINDS if kinds is None else kinds
    if kind == OTHER_KIND:
        return [("", sorted(kinds))]
    return [
        (key, sorted(k for k, v in kinds.items() if v != kind and _tag_matches(k, key)))
        for key, v in sorted(kinds.items())
        if v == kind
    ]


def event_hash(event: HistoryEvent) -> str:
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


def _numbered(column: str, n: int) -> BindParameter[Any]:
    """Head `n`'s value of `column`, in a statement built once for a number of heads."""
    return bindparam(f"{column}_{n}", type_=_HEADS.c[column].type)


@functools.cache
def _move_heads_statement(count: int) -> Update:
    """Sets each of `count` heads to its chain's new last event, in one statement."""
    subjects = [_numbered("subject_id", n) for n in range(count)]
    whens = list(enumerate(_HEADS.c.subject_id == subject for subject in subjects))
    return (
        _HEADS.update()
        .where(_HEADS.c.subject_id.in_(subjects))
        .values(
            seq=case(*((when, _numbered("seq", n)) for n, when in whens)),
            hash=case(*((when, _numbered("hash", n)) for n, when in whens)),
        )
    )


async def _locked_heads(
    db: AsyncSession, subject_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, str]]:
    """Each chain's last sequence number and hash, locked until the transaction ends.
    PostgreSQL locks the rows in the order given: sorted, two writers of the same chains
    cannot each hold one the other waits for."""
    rows = await db.execute(
        _lock_heads_statement(db.bind.dialect.name),
        [
            {"id": uuid.uuid4(), "subject_id": subject_id, "seq": 0, "hash": GENESIS}
            for subject_id in sorted(subject_ids)
        ],
    )
    return {subject_id: (seq, last) for subject_id, seq, last in rows}


async def record_all(db: AsyncSession, entries: Sequence[Entry]) -> list[HistoryEvent]:
    """Append entries to their subjects' chains, in the caller's transaction and in order.

    Three statements whatever the number of entries (lock the heads, insert the events, move
    the heads), on the tables rather than through the ORM's unit of work: history entries are
    part of most requests that change something, and the flush cost more than the database."""
    if not entries:
        return []
    heads = await _locked_heads(db, list({e.subject_id for e in entries}))
    events = []
    at = datetime.now(UTC)
    for entry in entries:
        seq, prev_hash = heads[entry.subject_id]
        event = HistoryEvent(
            id=uuid.uuid4(),
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
    await db.execute(_EVENTS.insert(), [{k: getattr(e, k) for k in _EVENT_COLUMNS} for e in events])
    moved: dict[str, Any] = {}
    for n, (subject_id, (seq, last)) in enumerate(heads.items()):
        moved[f"subject_id_{n}"], moved[f"seq_{n}"], moved[f"hash_{n}"] = subject_id, seq, last
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
) -> HistoryEvent:
    """Append one event to `subject_id`'s chain, in the caller's transaction."""
    entry = Entry(subject_id, action, actor, target, detail)
    return (await record_all(db, [entry]))[0]


def _tag_condition(key: str) -> ColumnElement[bool]:
    return or_(
        HistoryEvent.action == key, HistoryEvent.action.startswith(key + ":", autoescape=True)
    )


def _kind_condition(kind: str) -> ColumnElement[bool]:
    rules = [
        and_(
            _tag_condition(key) if key else true(),
            *(not_(_tag_condition(k)) for k in exceptions),
        )
        for key, exceptions in kind_rules(kind)
    ]
    return or_(*rules) if rules else false()


def _history_query(
    subject_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    action_prefix: str | None,
    kind: str | None,
    before_seq: int | None,
) -> Select[tuple[HistoryEvent]]:
    query = select(HistoryEvent).where(HistoryEvent.subject_id == subject_id)
    if since:
        query = query.where(HistoryEvent.at >= since)
    if until:
        query = query.where(HistoryEvent.at < until)
    if action_prefix:
        query = query.where(HistoryEvent.action.startswith(action_prefix, autoescape=True))
    if kind:
        query = query.where(_kind_condition(kind))
    if before_seq is not None:
        query = query.where(HistoryEvent.seq < before_seq)
    return query


async def history_for(
    db: AsyncSession,
    subject_id: uuid.UUID,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action_prefix: str | None = None,
    kind: str | None = None,
    before_seq: int | None = None,
    limit: int = 200,
) -> Sequence[HistoryEvent]:
    """Newest first: events at or after `since` and before `until`, whose tag starts with
    `action_prefix`, of `kind`, older than the event numbered `before_seq`."""
    query = _history_query(
        subject_id,
        since=since,
        until=until,
        action_prefix=action_prefix,
        kind=kind,
        before_seq=before_seq,
    )
    query = query.order_by(HistoryEvent.seq.desc()).limit(limit)
    return (await db.execute(query)).scalars().all()


async def latest_seq(db: AsyncSession, subject_id: uuid.UUID, action: str) -> int | None:
    """The sequence number of the subject's latest event with this action, if any."""
    return await db.scalar(
        select(func.max(HistoryEvent.seq)).where(
            HistoryEvent.subject_id == subject_id, HistoryEvent.action == action
        )
    )


async def count_history(
    db: AsyncSession,
    subject_id: uuid.UUID,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action_prefix: str | None = None,
    kind: str | None = None,
) -> int:
    query = _history_query(
        subject_id,
        since=since,
        until=until,
        action_prefix=action_prefix,
        kind=kind,
        before_seq=None,
    )
    return int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def stream_history(
    db: AsyncSession,
    subject_id: uuid.UUID,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action_prefix: str | None = None,
    kind: str | None = None,
) -> AsyncIterator[HistoryEvent]:
    """Like `history_for` without a limit, read in batches so memory stays flat."""
    query = _history_query(
        subject_id,
        since=since,
        until=until,
        action_prefix=action_prefix,
        kind=kind,
        before_seq=None,
    )
    query = query.order_by(HistoryEvent.seq.desc()).execution_options(yield_per=500)
    result = await db.stream(query)
    async for event in result.scalars():
        yield event


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
    report = ChainReport()
    heads_query = select(HistoryHead)
    if subject_id is not None:
        heads_query = heads_query.where(HistoryHead.subject_id == subject_id)
    heads = {h.subject_id: (h.seq, h.hash) for h in (await db.execute(heads_query)).scalars()}

    events_query = select(HistoryEvent).order_by(HistoryEvent.subject_id, HistoryEvent.seq)
    if subject_id is not None:
        events_query = events_query.where(HistoryEvent.subject_id == subject_id)

    current: uuid.UUID | None = None
    expected_seq, prev = 0, GENESIS

    def close(subject: uuid.UUID, seq: int, last: str) -> None:
        report.subjects += 1
        head = heads.pop(subject, None)
        if subject not in report.broken and head != (seq, last):
            report.broken[subject] = f"head does not match event {seq} (events removed?)"

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
    for subject, (seq, _hash) in heads.items():
        if seq:
            report.broken[subject] = "events removed: head without events"
    return report


async def chain_intact(db: AsyncSession, subject_id: uuid.UUID) -> bool:
    return (await verify(db, subject_id)).ok
