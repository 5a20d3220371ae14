"""The identity broker's use cases: start and finish a login, sessions, logout, profile."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import LoginRefused, NationalNumber, check_adult, loa_at_least, parse_nrn
from idp_bridge.interfaces import IdentityProvider, LoginRequest, VerifiedIdentity
from idp_bridge.models import LoginAttempt, Person, ProviderLink, SeenLogoutToken, WebSession
from idp_bridge.rp_keys import RelyingPartyKeys
from kluis import audit
from kluis.audit import PLATFORM_SUBJECT, Actor
from kluis.errors import Invalid, NotFound
from kluis.hooks import Hooks, Role
from kluis.keys import KeyProvider
from kluis.settings import Settings

LOGIN_HINT = re.compile(r"^[\w@.+-]{1,64}$")
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)
NRN_AAD = b"person.nrn"


def nrn_index(keys: KeyProvider, digits: str) -> str:
    """The blind index by which every domain finds a person's NRN."""
    return keys.blind_index("nrn", digits)


def seal_nrn(keys: KeyProvider, digits: str) -> bytes:
    return keys.seal(digits.encode(), NRN_AAD)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_next(value: str | None) -> str:
    """Only same-site absolute paths may follow a login; anything else is refused."""
    if not value:
        return "/home"
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or len(value) > 500
    ):
        raise LoginRefused("redirect-not-allowed")
    return value


@dataclass(frozen=True)
class CurrentSession:
    session: WebSession
    person: Person
    roles: tuple[Role, ...]

    @property
    def actor(self) -> Actor:
        return Actor(label=self.person.full_name, id=self.person.id)

    @property
    def role_names(self) -> list[str]:
        return ["citizen", *sorted({r.name for r in self.roles})]


@dataclass(frozen=True)
class LoginResult:
    session_token: str
    person: Person
    next_path: str


class IdentityBroker:
    def __init__(
        self,
        settings: Settings,
        keys: KeyProvider,
        providers: Mapping[str, IdentityProvider],
        hooks: Hooks,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.providers = providers
        self.hooks = hooks
        self.rp_keys = RelyingPartyKeys(keys)

    def provider(self, name: str) -> IdentityProvider:
        try:
            return self.providers[name]
        except KeyError:
            raise LoginRefused("provider-unknown") from None

    def nrn_index(self, nrn: str) -> str:
        return nrn_index(self.keys, nrn)

    def redirect_uri(self, provider: str) -> str:
        return f"{self.settings.base_url}/auth/callback/{provider}"

    # -- login --------------------------------------------------------------------------

    async def start_login(
        self,
        db: AsyncSession,
        provider_name: str,
        *,
        browser_token: str,
        next_path: str | None,
        login_hint: str | None,
        actor: Actor,
    ) -> str:
        try:
            provider = self.provider(provider_name)
            target = safe_next(next_path)
            if login_hint is not None and not LOGIN_HINT.match(login_hint):
                login_hint = None
            now = datetime.now(UTC)
            login = LoginRequest(
                state=secrets.token_urlsafe(32),
                nonce=secrets.token_urlsafe(32),
                code_verifier=secrets.token_urlsafe(64),
                redirect_uri=self.redirect_uri(provider_name),
                login_hint=login_hint,
            )
            url = await provider.start(login, await self.rp_keys.keyring(db))
        except LoginRefused as refusal:
            await self._record_refusal(db, refusal, provider_name, actor, None)
            raise
        db.add(
            LoginAttempt(
                state_hash=_hash(login.state),
                browser_hash=_hash(browser_token),
                provider=provider_name,
                nonce=login.nonce,
                code_verifier=login.code_verifier,
                next_path=target,
                created_at=now,
                expires_at=now + timedelta(minutes=self.settings.session.login_attempt_minutes),
            )
        )
        await db.execute(delete(LoginAttempt).where(LoginAttempt.expires_at < now))
        await db.commit()
        return url

    async def _consume_attempt(
        self, db: AsyncSession, provider: str, state: str | None, browser_token: str | None
    ) -> LoginAttempt:
        if not state or not browser_token:
            raise LoginRefused("login-state-invalid", check="state or browser missing")
        attempt = (
            await db.execute(select(LoginAttempt).where(LoginAttempt.state_hash == _hash(state)))
        ).scalar_one_or_none()
        if attempt is None:
            raise LoginRefused("login-state-invalid", check="unknown or used state")
        await db.delete(attempt)
        await db.commit()  # single use, whatever happens next
        if attempt.provider != provider or attempt.browser_hash != _hash(browser_token):
            raise LoginRefused("login-state-invalid", check="state of another browser")
        if attempt.expires_at < datetime.now(UTC):
            raise LoginRefused("login-state-invalid", check="state expired")
        return attempt

    async def complete_login(
        self,
        db: AsyncSession,
        provider_name: str,
        params: Mapping[str, str],
        *,
        browser_token: str | None,
        actor: Actor,
    ) -> LoginResult:
        nrn: NationalNumber | None = None
        try:
            provider = self.provider(provider_name)
            attempt = await self._consume_attempt(
                db, provider_name, params.get("state"), browser_token
            )
            login = LoginRequest(
                state=params["state"],
                nonce=attempt.nonce,
                code_verifier=attempt.code_verifier,
                redirect_uri=self.redirect_uri(provider_name),
            )
            identity = await provider.complete(params, login, await self.rp_keys.keyring(db))
            nrn = parse_nrn(identity.nrn)
            if not loa_at_least(identity.loa, provider.min_loa):
                raise LoginRefused("loa-too-low", loa=identity.loa)
            check_adult(nrn.birth_date or identity.birth_date, date.today())
        except LoginRefused as refusal:
            await self._record_refusal(db, refusal, provider_name, actor, nrn)
            raise
        person = await self._person_for(db, nrn, identity)
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        db.add(
            WebSession(
                token_hash=_hash(token),
                person_id=person.id,
                provider=provider_name,
                provider_subject=identity.subject,
                provider_sid=identity.sid,
                loa=identity.loa,
                id_token_sealed=self.keys.seal(identity.id_token.encode(), b"session.id_token")
                if identity.id_token
                else None,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=self.settings.session.absolute_hours),
                ip=actor.ip,
            )
        )
        person.last_login_at = now
        await audit.record(
            db,
            subject_id=person.id,
            action="idp:login:succeeded",
            actor=actor.with_identity(person.id, person.full_name),
            target=provider.label,
            detail={"provider": provider_name, "loa": identity.loa},
        )
        await db.commit()
        return LoginResult(session_token=token, person=person, next_path=attempt.next_path)

    async def register_person(
        self,
        db: AsyncSession,
        *,
        nrn: str,
        given_name: str,
        surname: str,
        email: str | None,
        language: str | None,
    ) -> tuple[Person, bool]:
        """Create a person ahead of their first login (the demo seed); commits."""
        number = parse_nrn(nrn)
        check_adult(number.birth_date, date.today())
        person, created = await self._upsert_person(
            db, number, given_name, surname, number.birth_date, email, language
        )
        await db.commit()
        return person, created

    async def _upsert_person(
        self,
        db: AsyncSession,
        nrn: NationalNumber,
        given_name: str,
        surname: str,
        birth_date: date | None,
        email: str | None,
        language: str | None,
    ) -> tuple[Person, bool]:
        index = self.nrn_index(nrn.digits)
        person = await db.scalar(select(Person).where(Person.nrn_index == index))
        if person is not None:
            person.given_name = given_name or person.given_name
            person.surname = surname or person.surname
            return person, False
        person = Person(
            nrn_index=index,
            nrn_sealed=seal_nrn(self.keys, nrn.digits),
            given_name=given_name,
            surname=surname,
            birth_date=birth_date,
            email=email,
            language=language
            if language in self.settings.languages
            else self.settings.default_language,
            notifications={},
        )
        db.add(person)
        await db.flush()
        return person, True

    async def _person_for(
        self, db: AsyncSession, nrn: NationalNumber, identity: VerifiedIdentity
    ) -> Person:
        person, _created = await self._upsert_person(
            db,
            nrn,
            identity.given_name,
            identity.surname,
            nrn.birth_date or identity.birth_date,
            identity.email,
            identity.language,
        )
        # The provider's subject only links to the person; the NRN decides who it is.
        link = (
            await db.execute(
                select(ProviderLink).where(
                    ProviderLink.provider == identity.provider,
                    ProviderLink.subject == identity.subject,
                )
            )
        ).scalar_one_or_none()
        now = datetime.now(UTC)
        if link is None:
            db.add(
                ProviderLink(
                    provider=identity.provider,
                    subject=identity.subject,
                    person_id=person.id,
                    last_seen_at=now,
                )
            )
        else:
            link.person_id, link.last_seen_at = person.id, now
        return person

    async def _record_refusal(
        self,
        db: AsyncSession,
        refusal: LoginRefused,
        provider: str,
        actor: Actor,
        nrn: NationalNumber | None,
    ) -> None:
        await db.rollback()
        subject = PLATFORM_SUBJECT
        if nrn is not None:
            person = (
                await db.execute(
                    select(Person).where(Person.nrn_index == self.nrn_index(nrn.digits))
                )
            ).scalar_one_or_none()
            if person is not None:
                subject = person.id
        await audit.record(
            db,
            subject_id=subject,
            action="idp:login:refused",
            actor=actor,
            target=provider[:40],
            detail={"provider": provider[:40], "reason": refusal.reason, **refusal.detail},
        )
        await db.commit()

    # -- sessions -----------------------------------------------------------------------

    async def load_session(self, db: AsyncSession, token: str | None) -> CurrentSession | None:
        if not token:
            return None
        row = (
            await db.execute(
                select(WebSession, Person)
                .join(Person, Person.id == WebSession.person_id)
                .where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None))
            )
        ).one_or_none()
        if row is None:
            return None
        session, person = row
        now = datetime.now(UTC)
        idle = timedelta(minutes=self.settings.session.idle_minutes)
        if now >= session.expires_at or now - session.last_seen_at >= idle:
            session.ended_at = now
            session.end_reason = "expired" if now >= session.expires_at else "idle"
            await db.commit()
            return None
        if now - session.last_seen_at >= SESSION_TOUCH_INTERVAL:
            session.last_seen_at = now
            await db.commit()
        roles: list[Role] = []
        if loa_at_least(session.loa, "high"):
            roles = await self.hooks.roles_for(db, person.nrn_index)
        return CurrentSession(session=session, person=person, roles=tuple(roles))

    async def logout(self, db: AsyncSession, current: CurrentSession, actor: Actor) -> str | None:
        """End the session here; return the provider's end-session URL, if it has one."""
        session = await db.get(WebSession, current.session.id)
        if session is None or session.ended_at is not None:
            return None
        session.ended_at, session.end_reason = datetime.now(UTC), "logout"
        await audit.record(
            db,
            subject_id=current.person.id,
            action="idp:session:ended",
            actor=actor,
            detail={"reason": "logout", "provider": session.provider},
        )
        await db.commit()
        id_token = (
            self.keys.open(session.id_token_sealed, b"session.id_token").decode()
            if session.id_token_sealed
            else None
        )
        provider = self.providers.get(session.provider)
        if provider is None:
            return None
        return await provider.end_session_url(id_token, f"{self.settings.base_url}/")

    async def backchannel_logout(
        self, db: AsyncSession, provider_name: str, logout_token: str | None, actor: Actor
    ) -> int:
        """End every session the provider's logout token names. Returns how many."""
        if provider_name not in self.providers:
            raise NotFound()
        provider = self.providers[provider_name]
        if not logout_token:
            raise Invalid("The logout token is missing.", type="logout-token-invalid")
        try:
            claims = await provider.verify_logout_token(
                logout_token, await self.rp_keys.keyring(db)
            )
        except LoginRefused as refusal:
            raise Invalid(
                "The logout token is not valid.", type="logout-token-invalid"
            ) from refusal
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
                "The logout token was already used.", type="logout-token-replayed"
            ) from exc
        match = WebSession.provider_sid == claims.sid if claims.sid else None
        if match is None:
            match = WebSession.provider_subject == claims.subject
        elif claims.subject:
            match = match & (WebSession.provider_subject == claims.subject)
        sessions = (
            (
                await db.execute(
                    select(WebSession).where(
                        WebSession.provider == provider_name, WebSession.ended_at.is_(None), match
                    )
                )
            )
            .scalars()
            .all()
        )
        for session in sessions:
            session.ended_at, session.end_reason = now, "provider-logout"
            await audit.record(
                db,
                subject_id=session.person_id,
                action="idp:session:ended",
                actor=actor,
                detail={"reason": "provider-logout", "provider": provider_name},
            )
        await db.commit()
        return len(sessions)

    async def end_all_sessions(self, db: AsyncSession, person_id: uuid.UUID, reason: str) -> None:
        """End every open session of a person (used when a death notice is recorded)."""
        await db.execute(
            update(WebSession)
            .where(WebSession.person_id == person_id, WebSession.ended_at.is_(None))
            .values(ended_at=datetime.now(UTC), end_reason=reason[:40])
        )

    # -- profile ------------------------------------------------------------------------

    def masked_nrn(self, person: Person) -> str:
        digits = self.keys.open(person.nrn_sealed, NRN_AAD).decode()
        return NationalNumber(digits=digits, birth_date=None).masked

    async def update_profile(
        self,
        db: AsyncSession,
        person: Person,
        *,
        language: str | None = None,
        notifications: dict[str, bool] | None = None,
    ) -> Person:
        if language is not None and language not in self.settings.languages:
            raise Invalid("This language is not available.", type="language-not-available")
        person = await db.merge(person)
        if language is not None:
            person.language = language
        if notifications is not None:
            person.notifications = {**(person.notifications or {}), **notifications}
        await db.commit()
        return person

    async def history(
        self, db: AsyncSession, person: Person, *, since: datetime | None, action: str | None
    ) -> tuple[list[audit.HistoryEvent], bool]:
        events = list(await audit.history_for(db, person.id, since=since, action_prefix=action))
        return events, await audit.chain_intact(db, person.id)
