"""Liveness and readiness over HTTP: ready while the database, clamd, every location (and
Redis, when configured) answer; degraded (200) while only clamd or fewer locations, but
enough to rebuild every document, do not; 503 `not-ready` naming what does not, and ready
again when it is back; no host, path or secret in the answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest

from tests.support.apps import app_client, variant

LOCAL = ["location:local-1", "location:local-2", "location:local-3"]


@pytest.fixture
def disks(tmp_path) -> list[Path]:
    found = [tmp_path / f"disk-{n}" for n in (1, 2, 3)]
    for disk in found:
        disk.mkdir()
    return found


def assert_degraded(response: httpx.Response, failing: list[str], secrets: list[str]) -> None:
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "degraded"
    assert answer["failing"] == failing
    assert [name for name, state in answer["checks"].items() if state == "failed"] == failing
    for secret in secrets:
        assert secret not in response.text


def assert_not_ready(response: httpx.Response, failing: list[str], secrets: list[str]) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "not-ready" and problem["status"] == 503
    assert problem["title"]  # localized
    assert problem["failing"] == failing
    assert [name for name, state in problem["checks"].items() if state == "failed"] == failing
    for secret in secrets:
        assert secret not in response.text


async def test_live_and_ready_on_the_live_server(server, settings):
    for location in settings.vault.locations:  # the fixture removed them; an operator makes them
        Path(location.path).mkdir(parents=True, exist_ok=True)
    async with httpx.AsyncClient(base_url=server.url) as client:
        live = await client.get("/health/live")
        assert live.status_code == 200 and live.json() == {"status": "live"}
        ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "clamd": "ok", **dict.fromkeys(LOCAL, "ok")},
    }
    for response in (live, ready):
        assert "set-cookie" not in response.headers  # no session, no CSRF cookie
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-request-id"]


async def test_degraded_while_clamd_is_gone_and_ready_once_it_is_back(
    settings, clamd, disks, tmp_path
):
    socket_path = tmp_path / "clamd.sock"  # where clamd's socket will be
    socket_path.symlink_to(tmp_path / "not-there-yet")
    platform = variant(settings, locations=disks, clamd_url=f"unix://{socket_path}")
    async with app_client(platform) as client:
        # Uploads are refused meanwhile; every read still works.
        assert_degraded(await client.get("/health/ready"), ["clamd"], [str(tmp_path), "sock"])
        socket_path.unlink()
        socket_path.symlink_to(urlsplit(clamd.url).path)  # clamd is back
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["clamd"] == "ok"


async def test_degraded_while_a_location_is_missing_not_ready_below_k_and_ready_once_back(
    settings, disks, tmp_path
):
    async with app_client(variant(settings, locations=disks)) as client:
        assert (await client.get("/health/ready")).json()["status"] == "ready"
        disks[1].rmdir()  # unmounted, or removed: two of three still rebuild everything
        assert_degraded(await client.get("/health/ready"), ["location:local-2"], [str(disks[1])])
        disks[2].rmdir()  # one of three: the documents cannot be read
        assert_not_ready(
            await client.get("/health/ready"),
            ["location:local-2", "location:local-3"],
            [str(disks[1]), str(disks[2])],
        )
        disks[1].mkdir()
        disks[2].mkdir()
        assert (await client.get("/health/ready")).json()["status"] == "ready"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never says a word: a hung dependency."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


async def test_a_hung_dependency_fails_its_check_within_the_time_limit(
    settings, disks, silent_port
):
    platform = variant(
        settings,
        locations=disks,
        clamd_url=f"tcp://127.0.0.1:{silent_port}",
        ops={"check_timeout_seconds": 0.5},
    )
    async with app_client(platform) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        assert time.monotonic() - started < 2
        assert_degraded(response, ["clamd"], [str(silent_port)])
        assert (await client.get("/health/live")).status_code == 200  # alive all the same


async def test_ready_checks_redis_and_a_redis_broker(settings, disks, redis_server):
    platform = variant(
        settings,
        locations=disks,
        redis_url=redis_server.url(1),
        tasks=msgspec.structs.replace(settings.tasks, broker_url=redis_server.url(0)),
        ops={"check_timeout_seconds": 1.0},
    )
    async with app_client(platform) as client:
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["redis"] == ready.json()["checks"]["broker"] == "ok"
        redis_server.stop()
        try:
            started = time.monotonic()
            response = await client.get("/health/ready")
            assert time.monotonic() - started < 3
            assert_not_ready(response, ["redis", "broker"], [str(redis_server.port)])
        finally:
            redis_server.start()
        assert (await client.get("/health/ready")).status_code == 200
