"""A citizen's own history: read a page of it, or all of it for an export, and whether its
chain verifies. Only ever the person's own events: every read takes the person, never an id
from the request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from idp_bridge.history.filters import HistoryFilter
from idp_bridge.models import Person
from kluis import audit

log = logging.getLogger("kluis.history")


@dataclass(frozen=True)
class HistoryPage:
    events: list[audit.HistoryEvent]  # newest first
    total: int  # events matching the filter, on every page together
    chain_intact: bool
    next_before: int | None  # pass as `before` for the next, older page; None at the end


class Histories:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        # An export streams after the response has started, when the request's own
        # database session is already closed: it reads through a session of its own.
        self.session_maker = session_maker

    async def page(
        self,
        db: AsyncSession,
        person: Person,
        wanted: HistoryFilter,
        *,
        before: int | None = None,
        limit: int = 100,
    ) -> HistoryPage:
        selection = _selection(wanted)
        events = list(
            await audit.history_for(db, person.id, **selection, before_seq=before, limit=limit + 1)
        )
        more = len(events) > limit
        events = events[:limit]
        intact = await audit.chain_intact(db, person.id)
        if not intact:  # `kluis audit verify` tells which event; the citizen was told now
            log.warning("the history of person %s does not verify", person.id)
        return HistoryPage(
            events=events,
            total=await audit.count_history(db, person.id, **selection),
            chain_intact=intact,
            next_before=events[-1].seq if more and events else None,
        )

    async def stream(
        self, person: Person, wanted: HistoryFilter
    ) -> AsyncIterator[audit.HistoryEvent]:
        """Every event matching the filter, newest first, read in batches."""
        async with self.session_maker() as db:
            async for event in audit.stream_history(db, person.id, **_selection(wanted)):
                yield event


def _selection(wanted: HistoryFilter) -> audit.Selection:
    return audit.Selection(
        since=wanted.since, until=wanted.until, action_prefix=wanted.action, kind=wanted.kind
    )
