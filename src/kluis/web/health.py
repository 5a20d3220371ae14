"""Liveness and readiness, for a load balancer or an orchestrator.

`/health/live` answers while the process serves, and asks nothing else. `/health/ready`
checks, all at once and each within `ops.check_timeout_seconds`, everything a request may
need: the database, the shared Redis (`redis_url`) and the task broker when it is Redis,
clamd (the development scanner is always ready) and every storage location. The answer
names the checks, never a host, path or secret; why a check failed goes to the log.

Three answers:
- 200 `ready`: everything answers;
- 200 `degraded`: clamd, or some storage locations, do not answer, but enough locations do
  to rebuild every document (`k` of the n). Every read still works; uploads are refused
  with 503 until the rest is back. clamd and the sites are shared by every instance, so
  taking this one out of the load balancer would help nobody: with a whole site down,
  every instance would go out at once;
- 503 `not-ready`: the database, Redis or the broker fails, or fewer than `k` locations
  answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from litestar import Request, Response, get
from sqlalchemy import text

from kluis.redis_client import short_lived
from kluis.settings import Settings
from kluis.tasks import redis_broker
from kluis.text import N_
from kluis.web.errors import PROBLEM_MEDIA_TYPE
from kluis.web.i18n import gettext
from kluis.web.observe import OPERATIONS

if TYPE_CHECKING:
    from kluis.app import Platform

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
LOCATION = "location:"
NOT_READY = N_("The service is not ready: some of what it needs does not answer.")


async def redis_answers(url: str, seconds: float) -> bool:
    async with short_lived(url, seconds) as client:
        return bool(await client.ping())


def readiness_checks(platform: Platform) -> dict[str, Check]:
    """Every check of a platform, by the name the answer gives it."""
    settings: Settings = platform.settings
    timeout = settings.ops.check_timeout_seconds

    async def database() -> bool:
        async with platform.engine.connect() as connection:
            return (await connection.execute(text("SELECT 1"))).scalar() == 1

    checks: dict[str, Check] = {"database": database}
    shared = platform.redis  # the very client rate limits and sessions use
    if shared is not None:
        checks["redis"] = shared.ping
    if redis_broker(settings):
        checks["broker"] = lambda: redis_answers(settings.tasks.broker_url, timeout)
    checks["clamd"] = platform.documents.scanner.ping
    for location in platform.documents.engine.locations:
        checks[f"{LOCATION}{location.name}"] = location.ready
    return checks


async def run_checks(checks: dict[str, Check], seconds: float) -> dict[str, bool]:
    """Every check at once, each given `seconds`; a check that raises has failed."""

    async def run(name: str, check: Check) -> bool:
        try:
            if await asyncio.wait_for(check(), seconds):
                return True
            log.warning("readiness: %s does not answer as it should", name)
        except TimeoutError:
            log.warning("readiness: %s did not answer within %.1f s", name, seconds)
        except Exception as exc:
            log.warning("readiness: %s failed: %r", name, exc)
        return False

    results = await asyncio.gather(*(run(name, check) for name, check in checks.items()))
    return dict(zip(checks, results, strict=True))


@get("/health/live", opt=OPERATIONS, include_in_schema=False)
async def live() -> dict[str, str]:
    return {"status": "live"}


@get("/health/ready", opt=OPERATIONS, include_in_schema=False)
async def ready(request: Request) -> Response[dict[str, object]]:
    platform = request.app.state.platform
    timeout = platform.settings.ops.check_timeout_seconds
    results = await run_checks(readiness_checks(platform), timeout)
    checks = {name: "ok" if passed else "failed" for name, passed in results.items()}
    failing = [name for name, passed in results.items() if not passed]
    if not failing:
        return Response({"status": "ready", "checks": checks})
    if _still_serves(results, platform.documents.engine.layout.k):
        return Response({"status": "degraded", "checks": checks, "failing": failing})
    title = gettext(NOT_READY)
    problem = {
        "type": "not-ready",
        "title": title,
        "status": 503,
        "detail": title,
        "checks": checks,
        "failing": failing,
    }
    return Response(problem, status_code=503, media_type=PROBLEM_MEDIA_TYPE)


def _still_serves(results: dict[str, bool], needed: int) -> bool:
    """Whether every read still works with these results (the module's docstring): only
    clamd or locations fail, and at least `needed` locations answer."""
    shared = all(
        passed or name == "clamd" or name.startswith(LOCATION) for name, passed in results.items()
    )
    answering = sum(passed for name, passed in results.items() if name.startswith(LOCATION))
    return shared and answering >= needed


health_handlers = [live, ready]
