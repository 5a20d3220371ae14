"""The Redis every server process shares: rate-limit counters and the session cache.

One client per process, made from `redis_url` (docs/redis.md). Its connections are opened
on first use, in the event loop of the server that uses them. A Redis that is away makes
each call fail within seconds, never hang: the callers then refuse with a 503 (fail
closed), they never fall back to what one process alone knows.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from kluis.settings import Settings

# What a Redis that is away, slow or refusing raises through the client.
STORE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
# Every key of ours starts with this, so a Redis shared with other software stays readable.
PREFIX = "kluis:"


# Connections per process. More requests than this at once wait for one (a command takes
# well under a millisecond); redis-py's default pool refuses them instead, which turned a
# busy server's requests into 503s.
MAX_CONNECTIONS = 100


def redis_from(settings: Settings) -> Redis | None:
    """The shared Redis of `settings`, or None where there is none (development, tests)."""
    if not settings.redis_url:
        return None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=MAX_CONNECTIONS,
        timeout=5.0,  # waiting for a free connection
        socket_connect_timeout=1.0,
        # Counted from the command sent until this process reads the answer: on a busy
        # event loop the answer waits to be read, and 1 s turned a saturated server's slow
        # answers into 503s although Redis had answered at once (bench/scale.py, soak).
        socket_timeout=5.0,
        # One immediate retry: a pooled connection that broke when Redis restarted is
        # replaced; a Redis that stays away is reported at once.
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes both


@contextlib.asynccontextmanager
async def short_lived(url: str, seconds: float) -> AsyncIterator[Redis]:
    """A client of its own for one look (the broker's queue for /metrics and readiness),
    closed after it; each of its calls gives up after `seconds`."""
    client = Redis.from_url(url, socket_timeout=seconds, socket_connect_timeout=seconds)
    try:
        yield client
    finally:
        await client.aclose()
