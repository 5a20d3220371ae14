"""A database connection lost under a running server (a restart, a failover): the request
that meets it gets 503 "try again", and the next one connects afresh. PostgreSQL only: an
SQLite file has no connection to lose."""

from __future__ import annotations

import os

import asyncpg
import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("KLUIS_TEST_DATABASE", "sqlite").startswith("postgresql"),
    reason="PostgreSQL only",
)


async def test_a_lost_connection_answers_503_once_then_the_pool_recovers(jan, platform, settings):
    assert (await jan.get("/api/v1/me")).status_code == 200
    url = make_url(settings.database_url)
    admin = await asyncpg.connect(
        user=url.username, host=url.host, port=url.port, database=url.database
    )
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert ended >= 1
    await platform.engine.dispose()  # the test's own connections died too

    lost = await jan.get("/api/v1/me")
    assert lost.status_code == 503
    assert lost.json()["type"] == "unavailable"
    assert (await jan.get("/api/v1/me")).status_code == 200
    assert (await jan.get("/api/v1/documents")).status_code == 200
