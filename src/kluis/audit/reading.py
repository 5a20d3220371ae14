"""Reading a history: filtered, paged, counted and streamed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from kluis.audit.chain import HistoryEvent
from kluis.audit.kinds import kind_rules


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


class Selection(TypedDict, total=False):
    """Which events of a history: at or after `since` and before `until`, whose tag starts
    with `action_prefix`, of `kind`."""

    since: datetime | None
    until: datetime | None
    action_prefix: str | None
    kind: str | None


def _history_query(
    subject_id: uuid.UUID, before_seq: int | None = None, **selection: Unpack[Selection]
) -> Select[tuple[HistoryEvent]]:
    query = select(HistoryEvent).where(HistoryEvent.subject_id == subject_id)
    if since := selection.get("since"):
        query = query.where(HistoryEvent.at >= since)
    if until := selection.get("until"):
        query = query.where(HistoryEvent.at < until)
    if action_prefix := selection.get("action_prefix"):
        query = query.where(HistoryEvent.action.startswith(action_prefix, autoescape=True))
    if kind := selection.get("kind"):
        query = query.where(_kind_condition(kind))
    if before_seq is not None:
        query = query.where(HistoryEvent.seq < before_seq)
    return query


async def history_for(
    db: AsyncSession,
    subject_id: uuid.UUID,
    *,
    before_seq: int | None = None,
    limit: int = 200,
    **selection: Unpack[Selection],
) -> Sequence[HistoryEvent]:
    """Newest first: the selected events older than the event numbered `before_seq`."""
    query = _history_query(subject_id, before_seq, **selection)
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
    db: AsyncSession, subject_id: uuid.UUID, **selection: Unpack[Selection]
) -> int:
    query = _history_query(subject_id, **selection)
    return int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def stream_history(
    db: AsyncSession, subject_id: uuid.UUID, **selection: Unpack[Selection]
) -> AsyncIterator[HistoryEvent]:
    """Like `history_for` without a limit, read in batches so memory stays flat."""
    query = _history_query(subject_id, **selection)
    query = query.order_by(HistoryEvent.seq.desc()).execution_options(yield_per=500)
    result = await db.stream(query)
    async for event in result.scalars():
        yield event
