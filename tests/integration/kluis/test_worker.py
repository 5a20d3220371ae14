"""The succession sweep runs on its own: the real `kluis beat` queues it on schedule and a
worker of `kluis.worker` runs it, as of the time it runs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from celery.contrib.testing.worker import start_worker
from sqlalchemy import select, update

from kluis.worker import worker_app
from succession.models import SuccessionTimer
from tests.support.commands import command_env
from tests.support.login import JAN
from tests.support.succession import choose, record_death
from tests.support.tasks import purge
from tests.support.vault import upload
from vault.models import Document, Tombstone


async def test_beat_queues_the_sweep_and_a_worker_runs_what_is_due(server, settings, jan, notary):
    assert (await choose(jan, 3, confirm_irreversible=True)).status_code == 200
    document_id = (await upload(jan, "mine.txt", b"for nobody after me")).json()["id"]
    assert (await record_death(notary, JAN)).status_code == 201
    async with server.sessions() as db:  # ten days pass for the safeguard
        await db.execute(
            update(SuccessionTimer)
            .where(SuccessionTimer.kind == "safeguard")
            .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await db.commit()

    purge(settings)
    app = worker_app(settings)
    app.conf.worker_hijack_root_logger = False  # pytest keeps the logs
    beat = subprocess.Popen(
        [sys.executable, "-m", "kluis.cli", "beat"],
        env=command_env(settings, KLUIS_TASKS__SWEEP_SECONDS="0.5"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            for _ in range(300):
                async with server.sessions() as db:
                    if await db.get(Document, document_id) is None:
                        break
                await asyncio.sleep(0.1)
    finally:
        beat.terminate()
        _, errors = beat.communicate(timeout=10)

    async with server.sessions() as db:
        assert await db.get(Document, document_id) is None, errors
        tombstone = await db.scalar(select(Tombstone).where(Tombstone.document_id == document_id))
        assert tombstone is not None and tombstone.reason == "option-3"
        timers = await db.scalars(select(SuccessionTimer).where(SuccessionTimer.kind == "erase"))
        assert [t.done_at for t in timers] == [None]  # 24 months away: not run
