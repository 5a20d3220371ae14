"""Server-side sessions: open at login, load per request, end at logout or by the provider.

The rows are the record. With a session cache (Redis, `session_cache`), a request reads
its session from the cache and costs no session query, and every ending writes the
cache's tombstones before its commit (the module's docstring says why).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import LoginRefused, loa_at_least, may_carry_nrn
from idp_bridge.interfaces import IdentityProvider, LogoutForm, LogoutToken, VerifiedIdentity
from idp_bridge.models import Person, SeenLogoutToken, WebSession
from idp_bridge.rp_keys import RelyingPartyKeys
from idp_bridge.services.session_cache import Cached, Ended, SessionCache
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Invalid, NotFound
from kluis.hooks import Hooks, Role
from kluis.keys import KeyProvider
from kluis.settings import Settings
from kluis.text import N_
from kluis.web.ratelimit import Count

# last_seen_at is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(seconds=60)
ID_TOKEN_AAD = b"session.id_token"


def provider_reference(keys: KeyProvider, value: str) -> str:
    """A provider's subject or session id as the platform stores it. One that may carry a
    national registry number (eIDAS nodes often send the PersonIdentifier `BE/BE/<number>`
    as NameID), or that does not fit its column, is kept as its keyed hash: an NRN is never
    in a clear column, and the same value always gives the same reference, so a provider's
    logout still finds the session."""
    if len(value) <= 255 and not may_carry_nrn(value):
        return value
    return "keyed:" + keys.blind_index("provider-reference", value)


def token_hash(token: str) -> str:
    """Cookies and login states are stored only as hashes."""
    return hashlib.sha256(token.encode()).hexdigest()


class LogoutRefused(Invalid):
    """A provider's logout (an OpenID logout token, a SAML LogoutRequest) that cannot be
    believed: 400, as OpenID Back-Channel Logout 1.0 (§2.8) asks of its refusals."""

    status = 400
    default_type = "logout-token-invalid"
    default_message = N_("The logout token is not valid.")


@dataclass(frozen=True)
class SessionRecord:
    """What a request knows of its session, the same whether read from the row or the cache."""

    id: uuid.UUID
    person_id: uuid.UUID
    provider: str
    loa: str
    expires_at: datetime
    token_hash: str  # names its entry in the session cache and its rate-limit count

    @classmethod
    def of(cls, row: WebSession) -> SessionRecord:
        return cls(row.id, row.person_id, row.provider, row.loa, row.expires_at, row.token_hash)


@dataclass(frozen=True)
class CurrentSession:
    session: SessionRecord
    person: Person
    roles: tuple[Role, ...]
    # This request's rate-limit count, when the session cache kept it (kluis.web.ratelimit).
    counted: tuple[int, int] | None = None

    @property
    def role_names(self) -> list[str]:
        return ["citizen", *sorted({r.name for r in self.roles})]


def _person_with_roles(hooks: Hooks) -> Select[Any] | None:
    """A person and the registers' roles for them, one row a role (the role's columns
    empty where there is none); built once. None without a register."""
    roles = hooks.roles()
    if roles is None:
        return None
    return (
        select(Person, roles.c.role, roles.c.scope_id, roles.c.scope_label)
        .outerjoin(roles, roles.c.nrn_index == Person.nrn_index)
        .where(Person.id == bindparam("person_id"))
    )


class Sessions:
    def __init__(
        self,
        settings: Settings,
        keys: KeyProvider,
        providers: Mapping[str, IdentityProvider],
        hooks: Hooks,
        rp_keys: RelyingPartyKeys,
        cache: SessionCache | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.providers = providers
        self.hooks = hooks
        self.rp_keys = rp_keys
        self.cache = cache
        self.idle = timedelta(minutes=settings.session.idle_minutes)
        self.with_roles = _person_with_roles(hooks)

    def open(
        self, db: AsyncSession, person: Person, identity: VerifiedIdentity, ip: str | None
    ) -> str:
        """A new session for a verified login (in the caller's transaction). Returns the token.
        Its first request finds it in the database and puts it in the session cache."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        session = WebSession(
            token_hash=token_hash(token),
            person_id=person.id,
            provider=identity.provider,
            provider_subject=identity.subject,
            provider_sid=identity.sid,
            loa=identity.loa,
            id_token_sealed=self.keys.seal(identity.id_token.encode(), ID_TOKEN_AAD)
            if identity.id_token
            else None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=self.settings.session.absolute_hours),
            ip=ip,
        )
        db.add(session)
        return token

    async def load(
        self, db: AsyncSession, token: str | None, count: Count | None = None
    ) -> CurrentSession | None:
        """The session behind `token`, if it is live. `count`: count this request there, in
        the cache's round trip, when the cache holds the session (`CurrentSession.counted`)."""
        if not token:
            return None
        digest, now = token_hash(token), datetime.now(UTC)
        if self.cache is None:
            found = await self._load_row(db, digest, now)
            return found[0] if found else None
        cached = await self.cache.touch(digest, now, count)
        if isinstance(cached, Cached):
            return await self._from_cache(db, digest, cached, now)
        if isinstance(cached, Ended):
            if cached.session_id is not None:  # it ran out at this request: the row says so
                await db.execute(
                    update(WebSession)
                    .where(WebSession.id == cached.session_id, WebSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason=cached.reason)
                )
                await db.commit()
            return None
        found = await self._load_row(db, digest, now)
        if found is None:
            return None
        current, written = found
        stored = await self.cache.put(
            digest,
            session_id=current.session.id,
            person_id=current.person.id,
            provider=current.session.provider,
            loa=current.session.loa,
            expires_at=current.session.expires_at,
            now=now,
            written=written,
        )
        # A tombstone: the session ended while this request read its row.
        return current if stored else None

    async def _load_row(
        self, db: AsyncSession, digest: str, now: datetime
    ) -> tuple[CurrentSession, datetime] | None:
        """The session from its row (and when the row was last marked seen)."""
        session = await db.scalar(
            select(WebSession).where(WebSession.token_hash == digest, WebSession.ended_at.is_(None))
        )
        if session is None:
            return None
        if now >= session.expires_at or now - session.last_seen_at >= self.idle:
            session.ended_at = now
            session.end_reason = "expired" if now >= session.expires_at else "idle"
            await self._forget([session], session.end_reason)
            await db.commit()
            return None
        if now - session.last_seen_at >= TOUCH_INTERVAL:
            session.last_seen_at = now
            await db.commit()
        current = await self._current(db, SessionRecord.of(session))
        return (current, session.last_seen_at) if current is not None else None

    async def _from_cache(
        self, db: AsyncSession, digest: str, cached: Cached, now: datetime
    ) -> CurrentSession | None:
        """A live session from the cache: the person is read (by key; a person changes, and
        handlers work on that row), the session row only every TOUCH_INTERVAL."""
        record = SessionRecord(
            cached.id, cached.person_id, cached.provider, cached.loa, cached.expires_at, digest
        )
        current = await self._current(db, record, cached.counted)
        if current is None:  # the person was erased with its rows
            await self._forget_digest(digest, cached.expires_at, "person-erased")
            return None
        if cached.write_due:
            written = await db.execute(
                update(WebSession)
                .where(WebSession.id == cached.id, WebSession.ended_at.is_(None))
                .values(last_seen_at=now)
            )
            await db.commit()
            if written.rowcount == 0:  # type: ignore[attr-defined]
                # Ended on the row without the cache knowing (not by this code): refuse it
                # from now on, everywhere.
                await self._forget_digest(digest, cached.expires_at, "ended")
                return None
        return current

    async def _current(
        self, db: AsyncSession, record: SessionRecord, counted: tuple[int, int] | None = None
    ) -> CurrentSession | None:
        """The session's person and roles; None if the person is gone.

        Roles come from the registers at every request and are never cached: a notary
        removed from an office loses its access at the next request, in every process. They
        are read with the person, in one statement, and only for high-assurance sessions
        (the registers grant roles on high assurance only)."""
        if self.with_roles is None or not loa_at_least(record.loa, "high"):
            person = await db.get(Person, record.person_id)
            return CurrentSession(record, person, (), counted) if person is not None else None
        rows = (await db.execute(self.with_roles, {"person_id": record.person_id})).all()
        if not rows:
            return None
        found = tuple(Role(name, scope, label) for _, name, scope, label in rows if name)
        return CurrentSession(record, rows[0][0], found, counted)

    async def _forget(self, sessions: list[WebSession], reason: str) -> None:
        """Refuse these sessions in every process, from now on: before the commit."""
        if self.cache is not None:
            await self.cache.end([(s.token_hash, s.expires_at) for s in sessions], reason)

    async def _forget_digest(self, digest: str, expires_at: datetime, reason: str) -> None:
        if self.cache is not None:
            await self.cache.end([(digest, expires_at)], reason)

    async def end(
        self, db: AsyncSession, current: CurrentSession, actor: Actor
    ) -> WebSession | None:
        """End the session here, in the person's history; None if it had ended already."""
        session = await db.get(WebSession, current.session.id)
        if session is None or session.ended_at is not None:
            return None
        await self._end_rows(db, [session], "logout", actor)
        await db.commit()
        return session

    async def end_all(
        self, db: AsyncSession, person_id: uuid.UUID, reason: str, actor: Actor
    ) -> int:
        """End every open session of a person (in the caller's transaction)."""
        sessions = (
            await db.scalars(
                select(WebSession).where(
                    WebSession.person_id == person_id, WebSession.ended_at.is_(None)
                )
            )
        ).all()
        await self._end_rows(db, sessions, reason, actor)
        return len(sessions)

    async def _end_rows(
        self, db: AsyncSession, sessions: Sequence[WebSession], reason: str, actor: Actor
    ) -> None:
        """End these open sessions, each in its person's history, in the caller's
        transaction. They are refused everywhere from now on, though the caller commits: if
        it rolls back, they stay refused (a needless logout), never the other way round."""
        now = datetime.now(UTC)
        for session in sessions:
            session.ended_at, session.end_reason = now, reason
        await audit.record_all(
            db,
            [
                audit.Entry(
                    session.person_id,
                    "idp:session:ended",
                    actor,
                    detail={"reason": reason, "provider": session.provider},
                )
                for session in sessions
            ],
        )
        await self._forget(list(sessions), reason)

    async def logout(
        self, db: AsyncSession, current: CurrentSession, actor: Actor
    ) -> str | LogoutForm | None:
        """End the session; return where the browser ends it at the provider, if it can."""
        session = await self.end(db, current, actor)
        if session is None:
            return None
        provider = self.providers.get(session.provider)
        if provider is None:
            return None
        id_token = (
            self.keys.open(session.id_token_sealed, ID_TOKEN_AAD).decode()
            if session.id_token_sealed
            else None
        )
        return await provider.end_session_url(
            id_token, f"{self.settings.base_url}/", await self.rp_keys.keyring(db)
        )

    async def backchannel_logout(
        self, db: AsyncSession, provider_name: str, logout_token: str | None, actor: Actor
    ) -> int:
        """End every session the provider's logout token names. Returns how many.

        Refusals are 400s, as OpenID Back-Channel Logout 1.0 (§2.8) asks."""
        provider = self.providers.get(provider_name)
        if provider is None:
            raise NotFound()
        if not logout_token:
            raise LogoutRefused(N_("The logout token is missing."))
        try:
            claims = await provider.verify_logout_token(
                logout_token, await self.rp_keys.keyring(db)
            )
        except LoginRefused as refusal:
            raise LogoutRefused() from refusal
        return await self.end_for_provider(db, provider_name, claims, actor)

    async def end_for_provider(
        self, db: AsyncSession, provider_name: str, claims: LogoutToken, actor: Actor
    ) -> int:
        """End the sessions a provider's verified logout names (by subject, session id or
        both), once per token id. Returns how many."""
        now = datetime.now(UTC)
        await db.execute(delete(SeenLogoutToken).where(SeenLogoutToken.expires_at < now))
        db.add(
            SeenLogoutToken(
                provider=provider_name,
                jti=claims.jti[:255],
                expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
            )
        )
        try:
            await db.flush()
        except IntegrityError as exc:
            await db.rollback()
            raise Invalid(
                "The logout token was already used.", type="logout-token-replayed", status=400
            ) from exc
        subject = provider_reference(self.keys, claims.subject) if claims.subject else None
        sid = provider_reference(self.keys, claims.sid) if claims.sid else None
        match = WebSession.provider_subject == subject
        if sid:
            match = WebSession.provider_sid == sid
            if subject:
                match = match & (WebSession.provider_subject == subject)
        sessions = (
            await db.scalars(
                select(WebSession).where(
                    WebSession.provider == provider_name, WebSession.ended_at.is_(None), match
                )
            )
        ).all()
        await self._end_rows(db, sessions, "provider-logout", actor)
        await db.commit()
        return len(sessions)
