"""Log records as a test sees them: a handler that keeps every record it is given."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


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
