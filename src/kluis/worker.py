"""The task worker's Celery app (composition): the kernel's tasks plus the domains'
periodic work, which only the composition root may import.

`kluis beat` queues the succession sweep every `tasks.sweep_seconds`; a worker runs it on
a platform of its own, as of the time it runs.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from celery import Celery, signals

from kluis.logs import configure_logging
from kluis.settings import Settings
from kluis.tasks import celery_app

SWEEP = "kluis.succession.sweep"


async def sweep(settings: Settings, as_of: datetime) -> Any:
    """Run every succession timer due by `as_of` on a platform built for this run."""
    from kluis.app import build_platform

    platform = build_platform(settings)
    try:
        return await platform.succession.sweep.run(platform.session_maker, as_of)
    finally:
        await platform.aclose()


def _logging_as_configured(settings: Settings) -> None:
    # Celery leaves logging alone when someone answers its `setup_logging` signal: the
    # worker and beat then log as the server does (format, request ids, no NRN).
    def configure(**_: Any) -> None:
        configure_logging(settings)

    signals.setup_logging.connect(configure, weak=False, dispatch_uid="kluis.logs")


def worker_app(settings: Settings) -> Celery:
    _logging_as_configured(settings)
    app = celery_app(settings)

    @app.task(name=SWEEP, shared=False, acks_late=True, ignore_result=True)
    def succession_sweep() -> None:
        asyncio.run(sweep(settings, datetime.now(UTC)))

    app.conf.beat_schedule = {
        "succession-sweep": {"task": SWEEP, "schedule": settings.tasks.sweep_seconds}
    }
    return app
