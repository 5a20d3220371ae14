"""Rate limits: whose counter a request counts in, the client address behind trusted proxies,
and the counters themselves, in memory and in a real Redis."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from redis.asyncio import Redis

from kluis.errors import ConfigurationError, RateLimited
from kluis.settings import RateLimitSettings, load_settings
from kluis.web.ratelimit import (
    Count,
    MemoryCounter,
    RateLimiter,
    RedisCounter,
    client_address,
    trusted_networks,
)

PROXIES = trusted_networks(["10.0.0.0/24", "::1"])


def scope(
    path: str = "/api/v1/me",
    peer: str = "192.0.2.7",
    forwarded: list[str] | None = None,
    **state: Any,
) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded or []]
    client = (peer, 50000)
    return {"type": "http", "path": path, "client": client, "headers": headers, "state": state}


def test_the_connection_is_the_client_when_no_proxy_is_trusted():
    forged = scope(forwarded=["203.0.113.9"])
    assert client_address(forged, ()) == "192.0.2.7"
    # A peer that is not a trusted proxy cannot name another address either.
    assert client_address(forged, PROXIES) == "192.0.2.7"


def test_behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client():
    # The client wrote "203.0.113.9"; the proxies appended what they saw.
    request = scope(peer="10.0.0.2", forwarded=["203.0.113.9, 198.51.100.4", "10.0.0.3"])
    assert client_address(request, PROXIES) == "198.51.100.4"


def test_a_request_from_the_proxies_own_network_is_theirs():
    assert client_address(scope(peer="10.0.0.2", forwarded=["10.0.0.5"]), PROXIES) == "10.0.0.5"
    assert client_address(scope(peer="10.0.0.2"), PROXIES) == "10.0.0.2"


def test_a_hop_that_is_no_address_falls_back_to_the_connection():
    assert client_address(scope(peer="::1", forwarded=["nonsense"]), PROXIES) == "::1"


LIMITS = RateLimitSettings(login_requests=2, api_requests=3, window_seconds=60)


@pytest.mark.parametrize(
    ("request_scope", "expected"),
    [
        (scope("/auth/login/itsme"), ("login:192.0.2.7", 2)),
        (scope("/auth/callback/itsme"), ("login:192.0.2.7", 2)),
        (scope("/oauth/token"), ("login:192.0.2.7", 2)),
        (scope("/api/v1/me"), ("api:address:192.0.2.7", 3)),
        (scope("/home"), None),
        (scope("/static/kluis.css"), None),
    ],
)
def test_each_request_counts_in_its_own_counter(request_scope, expected):
    assert RateLimiter(LIMITS, MemoryCounter()).bucket(request_scope) == expected


def test_the_api_counts_per_session_and_per_client_before_per_address():
    client_id = uuid.uuid4()
    identity = SimpleNamespace(session=SimpleNamespace(token_hash="5e55"))
    software = SimpleNamespace(id=client_id)
    limiter = RateLimiter(LIMITS, MemoryCounter())
    assert limiter.bucket(scope(identity=identity)) == ("api:session:5e55", 3)
    assert limiter.bucket(scope(office_software=software)) == (f"api:client:{client_id}", 3)
    assert limiter.bucket(scope(registry_client=software)) == (f"api:client:{client_id}", 3)


async def test_past_the_limit_a_request_is_refused_until_the_window_ends():
    now = [100.0]
    limiter = RateLimiter(LIMITS, MemoryCounter(clock=lambda: now[0]))
    login = scope("/auth/login/itsme")
    await limiter.check(login)
    await limiter.check(login)
    with pytest.raises(RateLimited) as refused:
        await limiter.check(login)
    assert refused.value.status == 429
    assert refused.value.type == "rate-limited"
    assert refused.value.headers == {"retry-after": "60"}
    await limiter.check(scope("/auth/login/itsme", peer="192.0.2.8"))  # another address

    now[0] += 59.5
    with pytest.raises(RateLimited) as refused:
        await limiter.check(login)
    assert refused.value.headers == {"retry-after": "1"}
    now[0] += 0.5
    await limiter.check(login)


async def test_a_request_the_session_cache_counted_is_not_counted_again():
    counter = MemoryCounter()
    limiter = RateLimiter(LIMITS, counter)
    session = SimpleNamespace(token_hash="5e55")
    await limiter.check(scope(identity=SimpleNamespace(session=session, counted=(3, 1500))))
    with pytest.raises(RateLimited) as refused:
        await limiter.check(scope(identity=SimpleNamespace(session=session, counted=(4, 1500))))
    assert refused.value.headers == {"retry-after": "2"}
    assert counter.windows == {}
    # A session the cache did not hold yet is counted here, under the same counter.
    await limiter.check(scope(identity=SimpleNamespace(session=session, counted=None)))
    assert counter.windows["api:session:5e55"][0] == 1


def test_only_api_requests_on_redis_are_counted_by_the_session_cache():
    on_redis = RateLimiter(LIMITS, RedisCounter(Redis()))  # not connected: no command is sent
    window = LIMITS.window_seconds * 1000
    assert on_redis.session_counter(scope("/api/v1/me")) == Count("kluis:rate:api:session:", window)
    assert on_redis.session_counter(scope("/home")) is None
    assert on_redis.session_counter(scope("/auth/login/itsme")) is None
    assert RateLimiter(LIMITS, MemoryCounter()).session_counter(scope("/api/v1/me")) is None


async def test_each_middleware_counts_only_its_own_paths_and_refuses_before_what_it_wraps():
    limiter = RateLimiter(LIMITS, MemoryCounter())
    reached: list[str] = []

    async def inner(scope, receive, send) -> None:  # the session look-up, for the login one
        reached.append(scope["path"])

    login, api = limiter.login_middleware(inner), limiter.api_middleware(inner)
    for _ in range(5):
        await login(scope("/api/v1/me"), None, None)  # not a login: never counted here
        await api(scope("/auth/login/itsme"), None, None)  # not the API: never counted here
    for _ in range(2):
        await login(scope("/auth/login/itsme"), None, None)
    with pytest.raises(RateLimited):
        await login(scope("/auth/login/itsme"), None, None)
    assert reached == ["/api/v1/me", "/auth/login/itsme"] * 5 + ["/auth/login/itsme"] * 2


async def test_memory_counters_forget_ended_windows():
    now = [0.0]
    counter = MemoryCounter(clock=lambda: now[0])
    counter.PRUNE_AT = 3
    for n in range(3):
        await counter.hit(f"k{n}", 1000)
    now[0] = 2.0
    await counter.hit("new", 1000)
    assert set(counter.windows) == {"new"}


async def test_redis_counters_are_one_count_for_every_process(redis_url):
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    await first.flushdb()
    try:
        counts = [
            await RedisCounter(client).hit("login:192.0.2.7", 2000)
            for client in (first, second, first)
        ]
        assert [n for n, _ in counts] == [1, 2, 3]
        assert all(0 < left <= 2000 for _, left in counts)
        assert await first.pttl("kluis:rate:login:192.0.2.7") > 0
    finally:
        await first.aclose()
        await second.aclose()


def test_limits_must_be_positive_and_proxies_addresses():
    with pytest.raises(ConfigurationError):
        load_settings({"KLUIS_ENV": "test", "KLUIS_RATE_LIMITS__LOGIN_REQUESTS": "0"})
    with pytest.raises(ConfigurationError):
        load_settings({"KLUIS_ENV": "test", "KLUIS_RATE_LIMITS__TRUSTED_PROXIES": '["proxy"]'})
    settings = load_settings(
        {"KLUIS_ENV": "test", "KLUIS_RATE_LIMITS__TRUSTED_PROXIES": '["10.0.0.0/24"]'}
    )
    assert settings.rate_limits.trusted_proxies == ["10.0.0.0/24"]
