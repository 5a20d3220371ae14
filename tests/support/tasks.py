"""A real Celery worker for tests: in a thread, on the settings' own broker."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
from celery import Celery
from celery.contrib.testing.worker import start_worker

from kluis.settings import Settings
from kluis.tasks import broker_folder, celery_app
from tests.support.smtp import SmtpServer


def sending_to(settings: Settings, server: SmtpServer) -> Settings:
    """`settings` whose mailer is SMTP to `server` (plain, on loopback)."""
    mail = msgspec.structs.replace(
        settings.mail,
        mailer="smtp",
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_security="none",
        from_address="Kluis <no-reply@kluis.test>",
        smtp_timeout_seconds=5.0,
    )
    return msgspec.structs.replace(settings, mail=mail)


def purge(settings: Settings) -> None:
    """Forget every queued task (left by an earlier test) on the embedded broker."""
    shutil.rmtree(broker_folder(settings) / "queue", ignore_errors=True)
    (broker_folder(settings) / "queue").mkdir(parents=True)


@contextmanager
def running_worker(settings: Settings) -> Iterator[Celery]:
    """A worker for `settings` (its mailer, its broker), stopped on leaving the block."""
    purge(settings)
    app = celery_app(settings)
    app.conf.worker_hijack_root_logger = False  # pytest keeps the logs
    with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield app


class Deferrals(logging.Handler):
    """Counts the worker's "mail deferred" log lines, so a test can wait for one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "deferred" in record.getMessage():
            self.count += 1
            self.seen.set()

    @contextmanager
    def watching(self) -> Iterator[Deferrals]:
        logger = logging.getLogger("kluis.tasks")
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)
