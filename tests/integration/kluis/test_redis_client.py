"""The shared Redis client: more commands at once than it has connections wait for one
instead of failing (a busy server's requests used to get 503 from the session store)."""

from __future__ import annotations

import asyncio

import msgspec

from kluis.redis_client import MAX_CONNECTIONS, redis_from


async def test_a_command_waits_for_a_free_connection_rather_than_failing(settings, redis_server):
    redis = redis_from(msgspec.structs.replace(settings, redis_url=redis_server.url(1)))
    assert redis is not None
    pool = redis.connection_pool
    try:
        held = [await pool.get_connection() for _ in range(MAX_CONNECTIONS)]
        waiting = asyncio.create_task(redis.ping())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # every connection is taken: it waits, it did not fail
        await pool.release(held.pop())
        assert await asyncio.wait_for(waiting, 5) is True
        for connection in held:
            await pool.release(connection)
    finally:
        await redis.aclose()
