"""Sessions served from Redis, across two server processes' worth of apps on one database:
no session query per request, every ending refused at once everywhere, the idle timeout
exact across processes, and a Redis that is away refused with a 503 (fail closed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
import redis.asyncio
from sqlalchemy import select, update

from idp_bridge.models import WebSession
from idp_bridge.services.session_cache import GRACE, KEY, SessionCache
from idp_bridge.services.sessions import TOUCH_INTERVAL, token_hash
from kluis.web.ratelimit import redis_key
from tests.support.instances import Instance, instances
from tests.support.login import JAN, NOTARY, csrf, login
from tests.support.offices import OPERATOR, register_office
from tests.support.redis import RedisServer
from tests.support.succession import record_death

SESSION_DB = 1  # a Redis database of this module's own


@pytest.fixture(scope="module")
def redis_db(redis_url) -> str:
    return redis_url.rsplit("/", 1)[0] + f"/{SESSION_DB}"


@pytest.fixture(scope="module")
def pair(settings, redis_db) -> Iterator[list[Instance]]:
    """Two server processes' worth of the platform on one database and one Redis."""
    with instances(settings, 2, redis_url=redis_db) as started:
        yield started


@pytest.fixture
def store(redis_db) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_db, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
async def a(server, pair, store):
    """Jan's browser, logged in through the first instance, talking to it."""
    async with httpx.AsyncClient(base_url=pair[0].url, timeout=20) as client:
        await login(client, login_hint=JAN)
        yield client


@pytest.fixture
async def b(a, pair):
    """The same browser (the same cookies) talking to the second instance."""
    async with httpx.AsyncClient(base_url=pair[1].url, timeout=20, cookies=a.cookies) as client:
        yield client


def key_of(client: httpx.AsyncClient) -> str:
    return KEY + token_hash(client.cookies["kluis_session"])


def shift_seen(store: redis.Redis, client: httpx.AsyncClient, by: timedelta) -> None:
    """Move the last request of the session (in any process) back by `by`."""
    key = key_of(client)
    seen = int(store.hget(key, "seen"))
    store.hset(key, "seen", seen - int(by.total_seconds() * 1000))


async def only_session(server) -> WebSession:
    async with server.sessions() as db:
        return (await db.scalars(select(WebSession))).one()


async def age_row(server, minutes: int) -> None:
    """Make the row look unseen for `minutes`: only Redis may decide the idle timeout."""
    async with server.sessions() as db:
        await db.execute(
            update(WebSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )
        await db.commit()


async def test_a_request_costs_no_session_query(server, pair, a, b):
    for instance in pair:
        instance.session_queries()

    assert (await a.get("/api/v1/me")).status_code == 200
    assert (await b.get("/api/v1/me")).status_code == 200
    assert (await b.get("/home")).status_code == 200

    assert pair[0].session_queries() == []
    assert pair[1].session_queries() == []


async def test_an_api_request_is_counted_in_the_round_trip_that_reads_its_session(
    server, pair, a, b, store
):
    counter = redis_key("api:session:") + token_hash(a.cookies["kluis_session"])
    store.config_resetstat()
    for client in (a, b, a):
        assert (await client.get("/api/v1/me")).status_code == 200
    assert (await a.get("/home")).status_code == 200  # a page: not counted

    assert int(store.get(counter)) == 3
    window = pair[0].platform.settings.rate_limits.window_seconds * 1000
    assert 0 < store.pttl(counter) <= window
    # One script a request: the session's, which counted the API ones too (the commands
    # scripts run are counted as well).
    commands = store.info("commandstats")
    assert commands["cmdstat_evalsha"]["calls"] == 4
    assert commands["cmdstat_incr"]["calls"] == 3


async def test_the_cache_entry_lives_no_longer_than_the_idle_timeout(server, pair, a, store):
    await a.get("/api/v1/me")
    idle = timedelta(minutes=pair[0].platform.settings.session.idle_minutes)
    assert 0 < store.pttl(key_of(a)) <= (idle + GRACE).total_seconds() * 1000
    fields = store.hgetall(key_of(a))
    assert set(fields) == {"id", "person", "provider", "loa", "expires", "seen", "written"}


async def test_logout_in_one_instance_is_refused_at_once_in_the_other(server, a, b, store):
    assert (await b.get("/api/v1/me")).status_code == 200

    assert (await a.post("/auth/logout", headers=csrf(a))).status_code == 303

    assert (await b.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "logout"
    assert store.hgetall(key_of(b)) == {"ended": "logout"}


async def test_a_new_login_ends_the_old_session_everywhere(server, pair, a, store):
    old = a.cookies["kluis_session"]
    await login(a, login_hint=JAN)
    assert a.cookies["kluis_session"] != old

    async with httpx.AsyncClient(base_url=pair[1].url, timeout=20) as stale:
        stale.cookies.set("kluis_session", old)
        assert (await stale.get("/api/v1/me")).status_code == 401
    assert (await a.get("/api/v1/me")).status_code == 200


async def test_backchannel_logout_is_refused_at_once_everywhere(server, pair, a, b):
    assert (await b.get("/api/v1/me")).status_code == 200
    session = await only_session(server)
    token = pair[0].dev_idp.logout_token("kluis-dev-itsme", session.provider_sid, None)

    ended = await a.post("/auth/backchannel-logout/itsme", data={"logout_token": token})

    assert ended.json() == {"sessions_ended": 1}
    assert (await b.get("/api/v1/me")).status_code == 401


async def test_a_recorded_death_ends_the_sessions_cached_in_redis(server, platform, pair, b):
    await register_office(platform)
    assert (await b.get("/api/v1/me")).status_code == 200  # cached, served by the second
    async with httpx.AsyncClient(base_url=pair[0].url, timeout=20) as notary:
        await login(notary, login_hint=NOTARY)

        assert (await record_death(notary, JAN)).status_code == 201

    assert (await b.get("/api/v1/me")).status_code == 401
    async with server.sessions() as db:
        reasons = {s.end_reason for s in await db.scalars(select(WebSession))}
    assert reasons == {None, "death-recorded"}  # the notary's is still open


async def test_idle_timeout_is_exact_across_instances(server, pair, a, b, store):
    await age_row(server, minutes=30)  # the row is not asked: Redis knows the last request
    shift_seen(store, a, timedelta(minutes=14))
    assert (await a.get("/api/v1/me")).status_code == 200  # 14 minutes idle: still valid
    shift_seen(store, a, timedelta(minutes=14))
    # 28 minutes since the request before last, 14 since the last one (on the other instance)
    assert (await b.get("/api/v1/me")).status_code == 200

    shift_seen(store, a, timedelta(minutes=16))

    assert (await a.get("/api/v1/me")).status_code == 401
    assert (await b.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "idle"
    assert store.hget(key_of(a), "ended") == "idle"


async def test_absolute_expiry_is_kept_from_the_cache(server, a, b, store):
    past = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp() * 1000)
    store.hset(key_of(a), "expires", past)

    assert (await b.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "expired"


async def test_a_session_ended_while_a_request_read_its_row_stays_ended(server, a, store, redis_db):
    # A request that finds nothing in Redis reads the row; if the session ends meanwhile (its
    # tombstone written, its row not yet committed), that request cannot put it back.
    store.delete(key_of(a))
    expires = (await only_session(server)).expires_at
    client = redis.asyncio.Redis.from_url(redis_db)
    cache = SessionCache(client, timedelta(minutes=15), TOUCH_INTERVAL)
    await cache.end([(token_hash(a.cookies["kluis_session"]), expires)], "logout")
    await client.aclose()

    assert (await a.get("/api/v1/me")).status_code == 401


async def test_a_row_ended_behind_the_caches_back_is_refused_at_the_next_row_write(
    server, a, b, store
):
    # Nothing in the code ends a row without the cache; an operator's SQL might. The row is
    # written every TOUCH_INTERVAL, and that write finds it ended.
    async with server.sessions() as db:
        await db.execute(update(WebSession).values(ended_at=datetime.now(UTC), end_reason="ops"))
        await db.commit()
    assert (await b.get("/api/v1/me")).status_code == 200  # not yet due
    store.hset(key_of(a), "written", 0)

    assert (await b.get("/api/v1/me")).status_code == 401
    assert (await a.get("/api/v1/me")).status_code == 401


async def test_the_row_is_marked_seen_at_most_every_touch_interval(server, pair, a, b, store):
    before = (await only_session(server)).last_seen_at
    store.hset(key_of(a), "written", 0)
    pair[1].session_queries()

    assert (await b.get("/api/v1/me")).status_code == 200
    assert (await b.get("/api/v1/me")).status_code == 200

    assert [q.split()[0] for q in pair[1].session_queries()] == ["UPDATE"]
    assert (await only_session(server)).last_seen_at > before


async def test_a_notary_removed_from_the_register_loses_the_role_at_once(
    server, platform, pair, store
):
    await register_office(platform)
    async with httpx.AsyncClient(base_url=pair[0].url, timeout=20) as notary:
        await login(notary, login_hint=NOTARY)
        assert (await notary.get("/api/v1/me")).json()["roles"] == ["citizen", "notary"]
        async with platform.session_maker() as db:
            office = await platform.register.office_by_number(db, "0403170701")
            await platform.register.remove_member(db, office, nrn=NOTARY, actor=OPERATOR)

        assert (await notary.get("/api/v1/me")).json()["roles"] == ["citizen"]


async def test_a_request_reads_its_person_and_their_roles_in_one_statement(
    server, platform, pair, store
):
    await register_office(platform)
    await register_office(platform, "Notaris Peeters", "0040000028", ((NOTARY, "staff"),))
    async with httpx.AsyncClient(base_url=pair[0].url, timeout=20) as notary:
        await login(notary, login_hint=NOTARY)
        pair[0].statements.clear()
        me = (await notary.get("/api/v1/me")).json()

    assert me["roles"] == ["citizen", "notary", "staff"]
    assert {(o["name"], o["role"]) for o in me["offices"]} == {
        ("Notaris Claes", "notary"),
        ("Notaris Peeters", "staff"),
    }
    [roles] = [s for s in pair[0].statements if "office_members" in s]
    assert "FROM people" in roles


# -- a Redis that is away ------------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def test_a_redis_that_is_away_refuses_sessions_with_a_503(server, settings, own_redis):
    with instances(settings, 1, redis_url=own_redis.url()) as (only,):
        async with httpx.AsyncClient(base_url=only.url, timeout=20) as browser:
            await login(browser, login_hint=JAN)
            assert (await browser.get("/api/v1/me")).status_code == 200

            own_redis.stop()
            api = await browser.get("/api/v1/me")
            page = await browser.get("/home")
            async with httpx.AsyncClient(base_url=only.url) as other:
                anonymous = await other.get("/")

            assert api.status_code == 503
            assert api.headers["content-type"].startswith("application/problem+json")
            assert api.json()["type"] == "session-store-unavailable"
            assert page.status_code == 503
            assert 'data-problem-type="session-store-unavailable"' in page.text
            assert anonymous.status_code == 200  # no session, nothing to check

            # Nor can a session end: the provider's logout is refused, and nothing committed.
            session = await only_session(server)
            token = only.dev_idp.logout_token("kluis-dev-itsme", session.provider_sid, None)
            async with httpx.AsyncClient(base_url=only.url) as provider:  # no cookie
                logout = await provider.post(
                    "/auth/backchannel-logout/itsme", data={"logout_token": token}
                )
            assert (logout.status_code, logout.json()["type"]) == (
                503,
                "session-store-unavailable",
            )
            assert (await only_session(server)).ended_at is None

            # Back, and empty (no persistence): the session is read from its row again.
            own_redis.start()
            assert (await browser.get("/api/v1/me")).status_code == 200
            # The provider tries again with the same token, which was not used up.
            async with httpx.AsyncClient(base_url=only.url) as provider:
                logout = await provider.post(
                    "/auth/backchannel-logout/itsme", data={"logout_token": token}
                )
            assert logout.json() == {"sessions_ended": 1}
            assert (await browser.get("/api/v1/me")).status_code == 401
