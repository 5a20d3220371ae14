"""Tasks are queued only when the transaction commits, and a real worker sends the mail,
retrying while the SMTP server is away."""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgspec
import pytest
import redis
from sqlalchemy import text

from kluis.mail import Email
from kluis.settings import Settings, load_settings
from kluis.tasks import Tasks, broker_folder, retry_delay, worker_arguments
from tests.support.smtp import SmtpServer
from tests.support.tasks import Deferrals, running_worker, sending_to

EMAIL = Email(to="emma.janssens@example.test", subject="Test", body="Hello Emma")


def queued(settings: Settings) -> int:
    return len(list((broker_folder(settings) / "queue").glob("*.msg")))


@pytest.fixture
def own_broker(settings, tmp_path) -> Settings:
    """The test settings with a broker (and outbox) of their own, which no worker reads."""
    return msgspec.structs.replace(settings, data_dir=str(tmp_path))


async def test_mail_is_queued_only_when_the_transaction_commits(db, own_broker):
    tasks = Tasks(own_broker)
    await db.execute(text("SELECT 1"))
    tasks.send_mail(db, EMAIL)
    assert queued(own_broker) == 0
    await db.commit()
    assert queued(own_broker) == 1


async def test_mail_of_a_rolled_back_transaction_is_never_queued(db, own_broker):
    tasks = Tasks(own_broker)
    await db.execute(text("SELECT 1"))
    tasks.send_mail(db, EMAIL)
    await db.rollback()
    await db.execute(text("SELECT 1"))
    await db.commit()
    assert queued(own_broker) == 0


async def test_each_commit_queues_its_own_mail_once(db, own_broker):
    tasks = Tasks(own_broker)
    for _ in range(2):
        await db.execute(text("SELECT 1"))
        tasks.send_mail(db, EMAIL)
        await db.commit()
    await db.commit()
    assert queued(own_broker) == 2


def test_retries_wait_longer_each_time_up_to_the_cap():
    mail = load_settings({"KLUIS_ENV": "development"}).mail
    delays = [retry_delay(mail, n) for n in range(8)]
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert delays[5:] == [600, 600, 600]
    # The default gives a mail server that is away about two days to come back.
    assert sum(retry_delay(mail, n) for n in range(mail.max_retries)) > 40 * 3600


def test_worker_options_for_the_embedded_broker_and_for_redis():
    embedded = load_settings({"KLUIS_ENV": "test"})
    assert "--without-mingle" in worker_arguments(embedded)
    redis = load_settings({"KLUIS_ENV": "test", "KLUIS_TASKS__BROKER_URL": "redis://r:6379/0"})
    assert "--without-mingle" not in worker_arguments(redis)
    assert worker_arguments(redis)[:2] == ["--queues", "kluis"]


# -- a real worker ------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(own_broker, smtp) -> Iterator[Settings]:
    settings = sending_to(own_broker, smtp)
    with running_worker(settings):
        yield settings


def enqueue(settings: Settings, email: Email) -> None:
    Tasks(settings).celery.signature(
        "kluis.send_mail", kwargs={"to": email.to, "subject": email.subject, "body": email.body}
    ).apply_async()


def test_worker_sends_queued_mail_over_smtp(worker, smtp):
    enqueue(worker, EMAIL)
    received = smtp.wait_for(1)[0]
    assert (received["To"], received["Subject"]) == (EMAIL.to, EMAIL.subject)
    assert received.get_content() == "Hello Emma\n"  # type: ignore[attr-defined]


def test_mail_waits_for_an_smtp_server_that_is_down_for_a_moment(worker, smtp):
    smtp.stop()
    with Deferrals().watching() as deferrals:
        enqueue(worker, EMAIL)
        assert deferrals.seen.wait(10), "the worker never tried"
        time.sleep(0.3)  # a few more attempts meet a closed port
    smtp.start()
    assert smtp.wait_for(1)[0]["Subject"] == EMAIL.subject
    assert deferrals.count >= 2


def test_mail_refused_for_good_is_not_retried(worker, smtp):
    smtp.replies["nobody@example.test"] = "550 5.1.1 No such mailbox"
    enqueue(worker, Email(to="nobody@example.test", subject="x", body="y"))
    enqueue(worker, EMAIL)  # the worker takes them in order: this one marks the first done
    smtp.wait_for(1)
    time.sleep(0.6)  # retries come after 0.1 s, 0.2 s, 0.4 s: none may come
    assert smtp.recipients_tried.count("nobody@example.test") == 1


# -- the production broker: Redis ----------------------------------------------------------

BROKER_DB = 3  # a Redis database of this module's own


@pytest.fixture
def on_redis(own_broker, redis_url, smtp) -> Iterator[tuple[Settings, redis.Redis]]:
    """Settings whose broker is the test Redis (and whose mailer is `smtp`)."""
    url = redis_url.rsplit("/", 1)[0] + f"/{BROKER_DB}"
    store = redis.Redis.from_url(url)
    store.flushdb()
    tasks = msgspec.structs.replace(own_broker.tasks, broker_url=url)
    yield sending_to(msgspec.structs.replace(own_broker, tasks=tasks), smtp), store
    store.close()


async def test_mail_queued_on_redis_is_sent_by_a_worker(db, on_redis, smtp):
    settings, store = on_redis
    tasks = Tasks(settings)
    await db.execute(text("SELECT 1"))
    tasks.send_mail(db, EMAIL)
    await db.commit()
    assert store.llen("kluis") == 1  # in Redis, waiting for a worker
    assert queued(settings) == 0  # nothing on the embedded broker

    with running_worker(settings):
        received = smtp.wait_for(1)[0]

    assert (received["To"], received["Subject"]) == (EMAIL.to, EMAIL.subject)
    assert store.llen("kluis") == 0


def test_a_worker_on_redis_retries_while_the_smtp_server_is_down(on_redis, smtp):
    settings, _ = on_redis
    smtp.stop()
    with running_worker(settings), Deferrals().watching() as deferrals:
        enqueue(settings, EMAIL)
        assert deferrals.seen.wait(10), "the worker never tried"
        smtp.start()
        assert smtp.wait_for(1)[0]["Subject"] == EMAIL.subject
