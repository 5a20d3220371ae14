"""The session cache: what a request needs of its session, in the Redis every process shares.

The `web_sessions` rows stay the record (history, back-channel logout by the provider's
sid, every session of a person ended at a recorded death). With `redis_url`, a request
reads its session from here instead, so it costs no session query:

- `kluis:session:<token hash>` is a hash: session id, person id, provider, level of
  assurance, absolute expiry, `seen` (the last request, in any process: the idle timeout
  is exact across processes) and `written` (when the row's last_seen_at was last written;
  it is written again at most every TOUCH_INTERVAL). Its time to live follows the idle
  timeout and never outlasts the absolute expiry; the Lua script that reads it also checks
  both, so a session that ran out is refused even before Redis drops the key.
- An ended session leaves a tombstone under the same key (`ended` = the reason), kept until
  the session would have expired anyway. A request that finds nothing here reads the row
  and puts the session back, but only where there is no tombstone (one Lua script): a
  request that read the row just before the session ended cannot bring it back.
- Every way a session ends (logout, a new login, back-channel logout, a recorded death,
  idle and absolute expiry) writes the tombstones *before* the database commit that ends
  the rows. From that moment every process refuses the session. Writing them after the
  commit would leave a window: if Redis were unreachable just then, the rows would be
  ended while Redis, once back, still served the sessions. In this order a Redis that is
  away stops the ending with a 503 and nothing is committed; a commit that fails after the
  tombstones leaves sessions refused whose rows still say open (a needless logout, never
  a session that outlives its end).
- An API request's rate-limit count (kluis.web.ratelimit) is kept by the same script that
  reads a live session, in the same round trip: `kluis:rate:api:session:<token hash>`.
- No per-person set of token hashes: ending all sessions of a person reads that person's
  open rows in its transaction anyway (to record each ending), and the rows carry the
  hashes. A second index in Redis could only disagree with them.

A Redis that does not answer makes every call raise `Unavailable` (503
`session-store-unavailable`): requests with a session cookie are refused, never served
from the rows alone, which could not know about endings Redis has seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from kluis.errors import Unavailable
from kluis.redis_client import PREFIX, STORE_ERRORS
from kluis.text import N_
from kluis.web.ratelimit import Count, count_lua

KEY = f"{PREFIX}session:"
# Added to every time to live: the processes' clocks may differ a little from each other
# and from Redis'. Expiry itself is decided by the scripts on the processes' clock.
GRACE = timedelta(seconds=60)
UNAVAILABLE = N_("Your session cannot be checked right now. Please try again in a moment.")

# KEYS[1] the session, KEYS[2] (optional) a rate-limit counter to count a live session's
# request in; ARGV: now, idle timeout, touch interval, grace, the counter's window
# (milliseconds). Returns {'miss'}, {'ended', reason, id, 'now' if this call ended it} or
# {'live', id, person, provider, loa, expires, write-due[, count, its window's ms left]}.
_TOUCH = (
    """
local raw = redis.call('HGETALL', KEYS[1])
if #raw == 0 then return {'miss'} end
local f = {}
for i = 1, #raw, 2 do f[raw[i]] = raw[i + 1] end
if f.ended then return {'ended', f.ended} end
local now, idle = tonumber(ARGV[1]), tonumber(ARGV[2])
local touch, grace = tonumber(ARGV[3]), tonumber(ARGV[4])
local expires, seen = tonumber(f.expires), tonumber(f.seen)
local reason = nil
if now >= expires then reason = 'expired' elseif now - seen >= idle then reason = 'idle' end
if reason then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'ended', reason)
  redis.call('PEXPIRE', KEYS[1], math.max(expires - now, 0) + grace)
  return {'ended', reason, f.id, 'now'}
end
local due = 0
if now - tonumber(f.written) >= touch then
  due = 1
  redis.call('HSET', KEYS[1], 'seen', ARGV[1], 'written', ARGV[1])
else
  redis.call('HSET', KEYS[1], 'seen', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], math.min(idle, expires - now) + grace)
local live = {'live', f.id, f.person, f.provider, f.loa, f.expires, due}
if KEYS[2] then"""
    + count_lua("KEYS[2]", "ARGV[5]")
    + """table.insert(live, n)
table.insert(live, ttl)
end
return live
"""
)

# KEYS[1] the session; ARGV: id, person, provider, loa, expires, seen, written, ttl.
# Returns 1 if stored, 0 if another request stored it first, the reason if it ended.
_PUT = """
local ended = redis.call('HGET', KEYS[1], 'ended')
if ended then return ended end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'person', ARGV[2], 'provider', ARGV[3],
  'loa', ARGV[4], 'expires', ARGV[5], 'seen', ARGV[6], 'written', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return 1
"""

# KEYS: the sessions; ARGV[1] the reason, ARGV[1 + i] the tombstone's time to live for
# KEYS[i]. Whatever was there (a live entry, nothing) becomes a tombstone.
_END = """
for i, key in ipairs(KEYS) do
  redis.call('DEL', key)
  redis.call('HSET', key, 'ended', ARGV[1])
  redis.call('PEXPIRE', key, ARGV[1 + i])
end
return #KEYS
"""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Cached:
    """A live session, as the cache had it."""

    id: uuid.UUID
    person_id: uuid.UUID
    provider: str
    loa: str
    expires_at: datetime
    write_due: bool  # this request writes last_seen_at to the row
    counted: tuple[int, int] | None = None  # (requests in the window, its ms left)


@dataclass(frozen=True)
class Ended:
    reason: str
    session_id: uuid.UUID | None  # set when this very request saw it run out


class SessionCache:
    def __init__(self, redis: Redis, idle: timedelta, touch_interval: timedelta) -> None:
        self.idle = idle
        self.touch_interval = touch_interval
        self._touch = redis.register_script(_TOUCH)
        self._put = redis.register_script(_PUT)
        self._end = redis.register_script(_END)

    async def touch(
        self, digest: str, now: datetime, count: Count | None = None
    ) -> Cached | Ended | None:
        """The session under `digest`, marked seen now; None if Redis does not have it.
        With `count`, a live session's request is also counted there (`Cached.counted`)."""
        args = [_ms(now), _ms_of(self.idle), _ms_of(self.touch_interval), _ms_of(GRACE)]
        keys = [KEY + digest]
        if count is not None:
            keys.append(count.prefix + digest)
            args.append(count.window_ms)
        try:
            reply = await self._touch(keys=keys, args=args)
        except STORE_ERRORS as exc:
            raise _unavailable() from exc
        kind = _text(reply[0])
        if kind == "miss":
            return None
        if kind == "ended":
            fresh = len(reply) > 2
            return Ended(_text(reply[1]), uuid.UUID(_text(reply[2])) if fresh else None)
        _, sid, person, provider, loa, expires, due, *counted = reply
        return Cached(
            id=uuid.UUID(_text(sid)),
            person_id=uuid.UUID(_text(person)),
            provider=_text(provider),
            loa=_text(loa),
            expires_at=datetime.fromtimestamp(int(expires) / 1000, UTC),
            write_due=bool(int(due)),
            counted=(int(counted[0]), int(counted[1])) if counted else None,
        )

    async def put(
        self,
        digest: str,
        *,
        session_id: uuid.UUID,
        person_id: uuid.UUID,
        provider: str,
        loa: str,
        expires_at: datetime,
        now: datetime,
        written: datetime,
    ) -> bool:
        """Keep a session read from its row; False if it ended meanwhile (a tombstone)."""
        ttl = min(self.idle, expires_at - now) + GRACE
        args = [
            str(session_id),
            str(person_id),
            provider,
            loa,
            _ms(expires_at),
            _ms(now),
            _ms(written),
            _ms_of(ttl),
        ]
        try:
            reply = await self._put(keys=[KEY + digest], args=args)
        except STORE_ERRORS as exc:
            raise _unavailable() from exc
        return not isinstance(reply, bytes | str)

    async def end(self, sessions: Iterable[tuple[str, datetime]], reason: str) -> None:
        """Tombstones for `(token hash, absolute expiry)` pairs, each kept until then."""
        now = datetime.now(UTC)
        pairs = list(sessions)
        if not pairs:
            return
        ttls = [_ms_of(max(expires - now, timedelta(0)) + GRACE) for _, expires in pairs]
        try:
            await self._end(keys=[KEY + digest for digest, _ in pairs], args=[reason, *ttls])
        except STORE_ERRORS as exc:
            raise _unavailable() from exc


def _ms_of(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() * 1000))


def _unavailable() -> Unavailable:
    return Unavailable(UNAVAILABLE, type="session-store-unavailable")
