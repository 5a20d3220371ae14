"""Log records as a test sees them: a handler that keeps every record it is given."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

ACCESS = "kluis.access"


class Records(logging.Handler):
    """Keeps every record that reaches it, at `level` and above."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def records_of(name: str, level: int) -> Iterator[Records]:
    """The records of logger `name` at `level` and above, the logger enabled and set to that
    level meanwhile (as the server's logging set-up may have left it otherwise)."""
    handler, logger = Records(level), logging.getLogger(name)
    saved = logger.level, logger.disabled
    logger.setLevel(level)
    logger.disabled = False
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.level, logger.disabled = saved


def access_lines(handler: Records) -> list[logging.LogRecord]:
    """The server's access lines among the handler's records."""
    return [record for record in handler.records if record.name == ACCESS]


async def settled_access_lines(
    handler: Records, done: Callable[[list[logging.LogRecord]], bool], seconds: float = 5.0
) -> list[logging.LogRecord]:
    """The access lines once `done` holds of them. A line is written once the answer has
    gone out, so the last one may come just after the client has read it."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not done(lines := access_lines(handler)):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.01)
    return lines
