"""Writing history from a test as the platform writes it: with the key its heads are
anchored with, and, for a history of the past, at a moment of the test's choosing."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kluis import audit
from kluis import db as database
from kluis.keys import key_provider_from
from kluis.settings import Settings


async def run_in_session(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    """Run `work` on a session of an engine of its own (the platform's key in its `info`),
    and commit."""
    engine = database.create_engine(settings)
    try:
        history_key = audit.anchoring_key(key_provider_from(settings))
        async with database.session_maker(engine, history_key)() as db:
            await work(db)
            await db.commit()
    finally:
        await engine.dispose()


@contextlib.contextmanager
def recorded_at(moment: datetime) -> Iterator[None]:
    """History written inside is dated `moment`: the chain stays intact."""

    class Then(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return moment

    real = audit.chain.datetime
    audit.chain.datetime = Then  # type: ignore[misc]
    try:
        yield
    finally:
        audit.chain.datetime = real  # type: ignore[misc]
