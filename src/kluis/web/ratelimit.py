"""Rate limits: logins per client address; the API per session, per client, else per address.

A window is a counter that starts with the first request and lives `window_seconds`; a
request past the limit is refused with a 429 (`rate-limited`, `Retry-After`) until the
window ends. With `redis_url` the counters are in Redis and every server process counts
into the same one; without it (development, tests) each process counts in its own memory.

Why not Litestar's `RateLimitMiddleware` on `litestar.stores.redis.RedisStore`: it reads a
key's history, decides and writes the history back in two round trips, which two server
processes interleave (both read N, both write N + 1), so the limit leaks exactly when
several processes serve one address; its lock is per process. It keeps one timestamp per
request (600 per API caller), its window is a unit (second, minute, …) rather than a number
of seconds, and it refuses with an exception of its own instead of our problem type. Here a
hit is one Lua script, INCR and PEXPIRE together, atomic in Redis for every process.

An API request with a session is counted by the session cache's script, in the round trip
that reads the session (`session_counter`), under the key this module names: one round trip
less on every such request. Only a request whose session the cache did not hold yet is
counted here.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import Redis

from kluis.errors import RateLimited, Unavailable
from kluis.redis_client import PREFIX, STORE_ERRORS
from kluis.settings import RateLimitSettings

# Logging in: a login's start and the provider's callback (page and form post), and the
# token endpoint where the offices' and the register's software authenticate.
LOGIN_PREFIXES = ("/auth/login/", "/auth/callback/", "/oauth/token")
API_PREFIX = "/api/v1/"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Counter(Protocol):
    async def hit(self, key: str, window_ms: int) -> tuple[int, int]:
        """Count a request under `key`: (requests in this window, milliseconds it has left)."""
        ...


def redis_key(bucket: str) -> str:
    return f"{PREFIX}rate:{bucket}"


@dataclass(frozen=True)
class Count:
    """Where the session cache counts an API request with a session: the counter's Redis
    key, less the token hash that ends it, and its window in milliseconds."""

    prefix: str
    window_ms: int


def count_lua(key: str, window_ms: str) -> str:
    """Lua that counts a request under `key` in a window of `window_ms` (both Lua
    expressions), leaving the count in `n` and the window's milliseconds left in `ttl`.

    INCR creates the key at 1 without an expiry: that request opens the window. The PTTL
    check (rather than `n == 1`) also heals a key that lost its expiry somehow."""
    return f"""
local n = redis.call('INCR', {key})
local ttl = redis.call('PTTL', {key})
if ttl < 0 then
  ttl = tonumber({window_ms})
  redis.call('PEXPIRE', {key}, ttl)
end
"""


class RedisCounter:
    """Counters every server process shares."""

    SCRIPT = count_lua("KEYS[1]", "ARGV[1]") + "return {n, ttl}\n"

    def __init__(self, redis: Redis) -> None:
        self.script = redis.register_script(self.SCRIPT)

    async def hit(self, key: str, window_ms: int) -> tuple[int, int]:
        try:
            count, left = await self.script(keys=[redis_key(key)], args=[window_ms])
        except STORE_ERRORS as exc:
            # Fail closed: without the shared count, any process could let a flood through.
            raise Unavailable(Unavailable.default_message, type="rate-limit-unavailable") from exc
        return int(count), int(left)


class MemoryCounter:
    """Counters of this process alone: development and tests without Redis."""

    PRUNE_AT = 10_000  # keys; past this, ended windows are dropped

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.windows: dict[str, tuple[int, float]] = {}

    async def hit(self, key: str, window_ms: int) -> tuple[int, int]:
        now = self.clock()
        count, ends = self.windows.get(key, (0, 0.0))
        if ends <= now:
            if len(self.windows) >= self.PRUNE_AT:
                self.windows = {k: w for k, w in self.windows.items() if w[1] > now}
            count, ends = 0, now + window_ms / 1000
        self.windows[key] = (count + 1, ends)
        return count + 1, max(1, round((ends - now) * 1000))


def trusted_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, networks: tuple[Network, ...]) -> str:
    """The client's address: the connection's, unless that is a trusted proxy.

    Behind trusted proxies, X-Forwarded-For is read from the right (each proxy appends the
    address it saw) and the first hop that is not a trusted proxy is the client; what lies
    left of it was written by the client and is not believed. A hop that is not an address
    means a proxy that misbehaves: the connection's address is used then.
    """
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = ",".join(ASGIConnection(scope).headers.getall("x-forwarded-for", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return hops[0] if hops else peer


class RateLimiter:
    def __init__(self, limits: RateLimitSettings, counter: Counter) -> None:
        self.limits = limits
        self.counter = counter
        self.networks = trusted_networks(limits.trusted_proxies)

    @classmethod
    def from_settings(cls, limits: RateLimitSettings, redis: Redis | None) -> RateLimiter:
        return cls(limits, RedisCounter(redis) if redis is not None else MemoryCounter())

    def bucket(self, scope: Scope) -> tuple[str, int] | None:
        """The counter a request counts in and its limit; None for what is not limited."""
        path: str = scope["path"]
        if path.startswith(LOGIN_PREFIXES):
            return f"login:{client_address(scope, self.networks)}", self.limits.login_requests
        if path.startswith(API_PREFIX):
            return f"api:{self._api_caller(scope)}", self.limits.api_requests
        return None

    def _api_caller(self, scope: Scope) -> str:
        state: dict[str, Any] = scope.get("state", {})
        identity = state.get("identity")
        if identity is not None:  # a valid session (a made-up cookie is no session)
            return f"session:{identity.session.token_hash}"
        client = state.get("office_software") or state.get("registry_client")
        if client is not None:  # a valid bearer token
            return f"client:{client.id}"
        return f"address:{client_address(scope, self.networks)}"

    def session_counter(self, scope: Scope) -> Count | None:
        """Where the session cache is to count this request, if it carries a session; None
        where a request is not counted by session in Redis."""
        if not isinstance(self.counter, RedisCounter) or not scope["path"].startswith(API_PREFIX):
            return None
        return Count(redis_key("api:session:"), self.limits.window_seconds * 1000)

    async def check(self, scope: Scope) -> None:
        bucket = self.bucket(scope)
        if bucket is None:
            return
        key, limit = bucket
        # An API request with a session the cache held was counted as the cache read it.
        identity = scope.get("state", {}).get("identity")
        counted = identity.counted if identity is not None else None
        if counted is None:
            counted = await self.counter.hit(key, self.limits.window_seconds * 1000)
        count, left_ms = counted
        if count > limit:
            raise RateLimited(retry_after=max(1, math.ceil(left_ms / 1000)))

    def login_middleware(self, app: ASGIApp) -> ASGIApp:
        """Logins, before the session is read: a flood of them costs no session look-up."""
        return self._middleware(app, LOGIN_PREFIXES)

    def api_middleware(self, app: ASGIApp) -> ASGIApp:
        """The API, after the session and bearer-token middleware (it keys by what they
        found)."""
        return self._middleware(app, (API_PREFIX,))

    def _middleware(self, app: ASGIApp, prefixes: tuple[str, ...]) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith(prefixes):
                await self.check(scope)
            await app(scope, receive, send)

        return middleware
