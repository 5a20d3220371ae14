"""Rate limits on running servers: logins per address and the API per caller, refused with a
429 (`rate-limited`, Retry-After, a localized page or problem) and allowed again after the
window; one count for every server process on Redis, one per process without it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import redis

from kluis.settings import RateLimitSettings
from tests.support.instances import instances
from tests.support.login import JAN, MARIE, login
from tests.support.net import free_port

RATE_DB = 2  # a Redis database of this module's own


@pytest.fixture
def redis_db(redis_url) -> Iterator[str]:
    url = redis_url.rsplit("/", 1)[0] + f"/{RATE_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


def rate_limits(login: int = 1000, api: int = 1000, window: int = 60, proxies=()) -> dict:
    """Settings changes: tight limits for one test."""
    limits = RateLimitSettings(
        login_requests=login,
        api_requests=api,
        window_seconds=window,
        trusted_proxies=list(proxies),
    )
    return {"rate_limits": limits}


async def start_login(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=20) as browser:
        return await browser.get("/auth/login/itsme", headers=headers)


async def test_logins_past_the_limit_get_a_localized_page_then_pass_after_the_window(
    server, settings, redis_db
):
    with instances(settings, 1, redis_url=redis_db, **rate_limits(login=3, window=2)) as (only,):
        for _ in range(3):
            assert (await start_login(only.url)).status_code == 302

        refused = await start_login(only.url, **{"accept-language": "nl"})

        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert 'data-problem-type="rate-limited"' in refused.text
        assert "Te veel verzoeken" in refused.text
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 2
        await asyncio.sleep(wait + 0.1)
        assert (await start_login(only.url)).status_code == 302


@pytest.mark.parametrize(
    ("method", "path", "before", "limits"),
    [
        ("GET", "/api/v1/me", 401, rate_limits(api=3)),
        # An office's software asking for tokens counts as logins, and is answered in JSON.
        ("POST", "/oauth/token", 400, rate_limits(login=3)),
    ],
)
async def test_the_api_past_the_limit_gets_a_problem_with_retry_after(
    server, settings, redis_db, method, path, before, limits
):
    with instances(settings, 1, redis_url=redis_db, **limits) as (only,):
        async with httpx.AsyncClient(base_url=only.url, timeout=20) as anonymous:
            for _ in range(3):
                assert (await anonymous.request(method, path)).status_code == before

            refused = await anonymous.request(method, path, headers={"accept-language": "fr"})

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["type"], problem["status"]) == ("rate-limited", 429)
    assert problem["title"].startswith("Trop de demandes")
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_two_server_processes_share_one_count_on_redis(server, settings, redis_db):
    with instances(settings, 2, redis_url=redis_db, **rate_limits(login=3)) as pair:
        first, second = pair
        statuses = [(await start_login(s.url)).status_code for s in (first, second, first)]
        assert statuses == [302, 302, 302]

        assert (await start_login(second.url)).status_code == 429
        assert (await start_login(first.url)).status_code == 429


async def test_without_redis_each_process_counts_in_its_own_memory(server, settings):
    with instances(settings, 2, redis_url="", **rate_limits(login=2)) as pair:
        first, second = pair
        assert [(await start_login(first.url)).status_code for _ in range(3)] == [302, 302, 429]

        assert (await start_login(second.url)).status_code == 302


async def test_each_session_has_a_count_of_its_own(server, settings, redis_db):
    with instances(settings, 1, redis_url=redis_db, **rate_limits(api=3)) as (only,):
        async with (
            httpx.AsyncClient(base_url=only.url, timeout=20) as jan,
            httpx.AsyncClient(base_url=only.url, timeout=20) as marie,
        ):
            await login(jan, login_hint=JAN)
            await login(marie, login_hint=MARIE)
            assert [(await jan.get("/api/v1/me")).status_code for _ in range(4)] == [
                200,
                200,
                200,
                429,
            ]
            # Marie, from the same address, and an anonymous caller have counts of their own.
            assert (await marie.get("/api/v1/me")).status_code == 200
            async with httpx.AsyncClient(base_url=only.url, timeout=20) as anonymous:
                assert (await anonymous.get("/api/v1/me")).status_code == 401


async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(server, settings, redis_db):
    one = rate_limits(login=1)
    trusting = rate_limits(login=1, proxies=["127.0.0.1"])
    with instances(settings, 1, redis_url=redis_db, **trusting) as (proxied,):
        assert (await start_login(proxied.url, **{"x-forwarded-for": "198.51.100.1"})).is_redirect
        again = await start_login(proxied.url, **{"x-forwarded-for": "198.51.100.1"})
        assert again.status_code == 429
        assert (await start_login(proxied.url, **{"x-forwarded-for": "198.51.100.2"})).is_redirect
    redis.Redis.from_url(redis_db).flushdb()
    with instances(settings, 1, redis_url=redis_db, **one) as (direct,):
        assert (await start_login(direct.url, **{"x-forwarded-for": "198.51.100.1"})).is_redirect
        forged = await start_login(direct.url, **{"x-forwarded-for": "198.51.100.2"})
        assert forged.status_code == 429  # the same client, whatever it claims


async def test_a_redis_that_is_away_refuses_logins_with_a_503(server, settings):
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    with instances(settings, 1, redis_url=nobody) as (only,):
        refused = await start_login(only.url)
        async with httpx.AsyncClient(base_url=only.url, timeout=20) as anonymous:
            page = await anonymous.get("/")

    assert refused.status_code == 503
    assert 'data-problem-type="rate-limit-unavailable"' in refused.text
    assert page.status_code == 200  # what is not limited does not need Redis
