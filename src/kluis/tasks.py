"""Background work: the Celery app, its tasks, and queueing them once a transaction commits.

Production points `tasks.broker_url` at Redis. The embedded default needs no server: kombu's
filesystem transport, one file per message under `{data_dir}/broker/`, which the web
process and `kluis worker` (or the worker `kluis dev` starts) share. It was chosen over
kombu's SQLAlchemy transport because that one creates tables of its own and polls a
database with a synchronous driver; files need nothing beyond the data directory.

Work is queued only after the database transaction that asked for it commits
(`after_commit`), so a mail never announces a change that was rolled back. If the broker
cannot take the message at that moment the change stays committed and the failure is
logged: there is no outbox table yet to keep such messages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from celery import Celery, Task
from celery.canvas import Signature
from kombu.transport import filesystem
from kombu.utils.json import dumps, loads
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from kluis.mail import Email, MailDeferred, MailRefused, mailer_from
from kluis.redis_client import short_lived
from kluis.settings import MailSettings, Settings

log = logging.getLogger("kluis.tasks")

QUEUE = "kluis"
SEND_MAIL = "kluis.send_mail"
_PENDING = "kluis.tasks.after_commit"


# -- the embedded broker ------------------------------------------------------------------


class _FilesystemChannel(filesystem.Channel):
    """kombu's filesystem channel, made safe for several processes.

    kombu writes a message into its final name, so a worker polling at that moment can
    read an empty file; and it claims a message by moving it to the system's temporary
    directory, which copies (and may duplicate) when that is another file system. Here a
    message appears whole, by rename, and is claimed by a rename inside the broker folder.
    """

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        partial = Path(self.data_folder_out) / f"partial-{uuid.uuid4()}"
        partial.write_bytes(dumps(payload).encode())
        os.replace(partial, Path(self.data_folder_out) / name)

    def _get(self, queue: str) -> Any:
        suffix = f"{queue}.msg"
        folder = Path(self.data_folder_in)
        claimed = Path(self.processed_folder)
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != suffix:
                continue
            mine = claimed / name
            try:
                os.rename(folder / name, mine)
            except FileNotFoundError:  # another worker took it
                continue
            payload = mine.read_bytes()
            mine.unlink()
            return loads(payload)
        raise Empty()


class FilesystemTransport(filesystem.Transport):
    Channel = _FilesystemChannel

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:
        # Celery's worker loop waits 2 s per round and looks for a shutdown between
        # rounds; rounds of one poll (at least 0.25 s) let `kluis dev` and the tests stop
        # it promptly.
        if timeout is not None:
            timeout = min(timeout, max(self.polling_interval or 0, 0.25))
        super().drain_events(connection, timeout=timeout)


def broker_folder(settings: Settings) -> Path:
    return settings.path(settings.data_dir) / "broker"


def _broker(settings: Settings) -> dict[str, Any]:
    if settings.tasks.broker_url:
        return {"broker_url": settings.tasks.broker_url}
    root = broker_folder(settings)
    folders = {name: root / name for name in ("queue", "claimed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://localhost/",
        "broker_transport": FilesystemTransport,
        "broker_transport_options": {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["claimed"]),
            "control_folder": str(folders["control"]),
            "polling_interval": settings.tasks.poll_seconds,
        },
        # Remote control, gossip and events broadcast to every worker; one embedded worker
        # has nobody to talk to.
        "worker_enable_remote_control": False,
    }


def embedded_broker(settings: Settings) -> bool:
    return not settings.tasks.broker_url


# -- the app and its tasks ----------------------------------------------------------------


def retry_delay(mail: MailSettings, retries: int) -> float:
    """Seconds before the next attempt, after `retries` earlier retries: doubling, capped."""
    return min(mail.retry_first_seconds * 2 ** min(retries, 32), mail.retry_max_seconds)


def celery_app(settings: Settings) -> Celery:
    """The Celery app of these settings, with the platform's tasks."""
    app = Celery("kluis", set_as_current=False)
    broker = _broker(settings)
    app.conf.update(
        broker_url=broker["broker_url"],
        broker_transport=broker.get("broker_transport"),
        worker_enable_remote_control=broker.get("worker_enable_remote_control", True),
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        # A task is acknowledged when it is done, so a worker that dies mid-way leaves it
        # for the next; one prefetched message at a time keeps that promise small.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A request that queues work waits at most about a second for the broker.
        task_publish_retry_policy={
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        # Redis redelivers an unacknowledged task after this; mail retries wait less.
        broker_transport_options={
            "visibility_timeout": 3600,
            **broker.get("broker_transport_options", {}),
        },
        timezone="UTC",
        enable_utc=True,
        beat_schedule={},
    )
    mail = settings.mail
    mailer = mailer_from(settings)

    @app.task(name=SEND_MAIL, bind=True, shared=False, acks_late=True, ignore_result=True)
    def send_mail(task: Task, *, to: str, subject: str, body: str) -> None:
        attempt = task.request.retries + 1
        try:
            mailer.send(Email(to=to, subject=subject, body=body))
        except MailDeferred as exc:
            if task.request.retries >= mail.max_retries:
                log.error("mail %s not sent after %d attempts: %s", task.request.id, attempt, exc)
                raise
            delay = retry_delay(mail, task.request.retries)
            log.warning(
                "mail %s deferred (attempt %d), next try in %.1f s: %s",
                task.request.id,
                attempt,
                delay,
                exc,
            )
            raise task.retry(countdown=delay, max_retries=mail.max_retries) from exc
        except MailRefused as exc:
            log.error("mail %s refused, not retried: %s", task.request.id, exc)
            raise
        log.info("mail %s sent (attempt %d)", task.request.id, attempt)

    return app


# -- queueing after commit ----------------------------------------------------------------


def after_commit(db: AsyncSession, signature: Signature) -> None:
    """Send `signature` to the broker once `db`'s transaction commits; forget it on rollback."""
    session = db.sync_session
    pending: list[Signature] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
    pending.append(signature)


def _send_pending(session: Session) -> None:
    pending: list[Signature] = session.info.get(_PENDING, [])
    while pending:
        signature = pending.pop(0)
        try:
            signature.apply_async()
        except Exception:  # the change is committed; a failed hook must not hide that
            log.exception("task %s could not be queued after commit", signature.task)


def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.get(_PENDING, []).clear()


class Tasks:
    """What domains queue: built once by the composition root from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.celery = celery_app(settings)

    def send_mail(self, db: AsyncSession, email: Email) -> None:
        """Mail `email` once `db`'s transaction commits (never, if it rolls back)."""
        signature = self.celery.signature(
            SEND_MAIL, kwargs={"to": email.to, "subject": email.subject, "body": email.body}
        )
        after_commit(db, signature)


# kombu's Redis transport keeps a queue as one list per priority step (0, 3, 6, 9); the
# higher steps are the queue's name, its separator and the step.
_REDIS_PRIORITY_LISTS = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def redis_broker(settings: Settings) -> bool:
    return settings.tasks.broker_url.startswith(("redis://", "rediss://"))


async def queue_depth(settings: Settings) -> int:
    """How many tasks wait in the queue now: the Redis lists' lengths, or the embedded
    broker's message files."""
    timeout = settings.ops.check_timeout_seconds
    if redis_broker(settings):
        async with short_lived(settings.tasks.broker_url, timeout) as client:
            lengths = await asyncio.wait_for(
                asyncio.gather(*(client.llen(QUEUE + p) for p in _REDIS_PRIORITY_LISTS)), timeout
            )
        return sum(lengths)
    if not embedded_broker(settings):
        raise LookupError("the queue depth of this broker is not known")
    folder = broker_folder(settings) / "queue"
    suffix = f".{QUEUE}.msg"

    def count() -> int:
        with os.scandir(folder) as entries:
            return sum(1 for entry in entries if entry.name.endswith(suffix))

    return await asyncio.to_thread(count)


def worker_arguments(settings: Settings) -> list[str]:
    """`celery worker` options these settings need."""
    arguments = ["--queues", QUEUE, "--loglevel", settings.log_level]
    if embedded_broker(settings):
        arguments += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return arguments


def beat_arguments(settings: Settings) -> list[str]:
    schedule = settings.path(settings.data_dir) / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    return ["--schedule", str(schedule), "--loglevel", settings.log_level]
