"""The identity broker: start a login at a provider and finish it, or refuse it on record."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import LoginRefused, NationalNumber, check_adult, loa_at_least, parse_nrn
from idp_bridge.interfaces import IdentityProvider, LoginRequest, VerifiedIdentity
from idp_bridge.models import LoginAttempt, Person, ProviderLink
from idp_bridge.rp_keys import RelyingPartyKeys
from idp_bridge.services.people import People
from idp_bridge.services.sessions import Sessions, provider_reference, token_hash
from kluis import audit
from kluis.audit import PLATFORM_SUBJECT, Actor
from kluis.db import insert_unless_exists
from kluis.settings import Settings

LOGIN_HINT = re.compile(r"^[\w@.+-]{1,64}$")
log = logging.getLogger(__name__)


def safe_next(value: str | None) -> str:
    """Only same-site absolute paths may follow a login; anything else is refused."""
    if not value:
        return "/"
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or len(value) > 500
    ):
        raise LoginRefused("redirect-not-allowed")
    return value


@dataclass(frozen=True)
class LoginResult:
    session_token: str
    person: Person
    next_path: str


class IdentityBroker:
    def __init__(
        self,
        settings: Settings,
        providers: Mapping[str, IdentityProvider],
        people: People,
        sessions: Sessions,
        rp_keys: RelyingPartyKeys,
    ) -> None:
        self.settings = settings
        self.providers = providers
        self.people = people
        self.sessions = sessions
        self.rp_keys = rp_keys

    def provider(self, name: str) -> IdentityProvider:
        try:
            return self.providers[name]
        except KeyError:
            raise LoginRefused("provider-unknown") from None

    def redirect_uri(self, provider: str) -> str:
        return f"{self.settings.base_url}/auth/callback/{provider}"

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
        """Record a login in flight, bound to this browser; return the provider's URL."""
        try:
            provider = self.provider(provider_name)
            target = safe_next(next_path)
            login = LoginRequest(
                state=secrets.token_urlsafe(32),
                nonce=secrets.token_urlsafe(32),
                code_verifier=secrets.token_urlsafe(64),
                redirect_uri=self.redirect_uri(provider_name),
                login_hint=login_hint if login_hint and LOGIN_HINT.match(login_hint) else None,
            )
            url = await provider.start(login, await self.rp_keys.keyring(db))
        except LoginRefused as refusal:
            await self._record_refusal(db, refusal, provider_name, actor, None)
            raise
        now = datetime.now(UTC)
        db.add(
            LoginAttempt(
                state_hash=token_hash(login.state),
                browser_hash=token_hash(browser_token),
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

    async def complete_login(
        self,
        db: AsyncSession,
        provider_name: str,
        params: Mapping[str, str],
        *,
        browser_token: str | None,
        actor: Actor,
    ) -> LoginResult:
        """Verify the provider's answer and the person's right to a vault; open a session."""
        nrn: NationalNumber | None = None
        try:
            provider = self.provider(provider_name)
            state = params.get(provider.state_parameter)
            attempt = await self._consume_attempt(db, provider_name, state, browser_token)
            login = LoginRequest(
                state=str(state),
                nonce=attempt.nonce,
                code_verifier=attempt.code_verifier,
                redirect_uri=self.redirect_uri(provider_name),
            )
            identity = await provider.complete(params, login, await self.rp_keys.keyring(db))
            identity = replace(
                identity,
                subject=provider_reference(self.sessions.keys, identity.subject),
                sid=provider_reference(self.sessions.keys, identity.sid) if identity.sid else None,
            )
            nrn = parse_nrn(identity.nrn)
            if not loa_at_least(identity.loa, provider.min_loa):
                raise LoginRefused("loa-too-low", loa=identity.loa)
            check_adult(nrn.birth_date or identity.birth_date, date.today())
        except LoginRefused as refusal:
            await self._record_refusal(db, refusal, provider_name, actor, nrn)
            raise
        person, _created = await self.people.upsert(
            db,
            nrn,
            given_name=identity.given_name,
            surname=identity.surname,
            birth_date=nrn.birth_date or identity.birth_date,
            email=identity.email,
            language=identity.language,
        )
        person_actor = actor.with_identity(person.id, person.full_name)
        try:
            await self.people.hooks.check_login(db, person, identity.loa, person_actor)
        except LoginRefused as refusal:
            await self._record_refusal(db, refusal, provider_name, actor, nrn)
            raise
        await self._link(db, identity, person)
        token = self.sessions.open(db, person, identity, actor.ip)
        person.last_login_at = datetime.now(UTC)
        await audit.record(
            db,
            subject_id=person.id,
            action="idp:login:succeeded",
            actor=person_actor,
            target=provider.label,
            detail={"provider": provider_name, "loa": identity.loa},
        )
        await db.commit()
        return LoginResult(session_token=token, person=person, next_path=attempt.next_path)

    async def _consume_attempt(
        self, db: AsyncSession, provider: str, state: str | None, browser_token: str | None
    ) -> LoginAttempt:
        if not state or not browser_token:
            raise LoginRefused("login-state-invalid", check="state or browser missing")
        # DELETE … RETURNING: of two callbacks racing with one state, exactly one gets it.
        attempt = await db.scalar(
            delete(LoginAttempt)
            .where(LoginAttempt.state_hash == token_hash(state))
            .returning(LoginAttempt)
        )
        await db.commit()  # single use, whatever happens next
        if attempt is None:
            raise LoginRefused("login-state-invalid", check="unknown or used state")
        if attempt.provider != provider or attempt.browser_hash != token_hash(browser_token):
            raise LoginRefused("login-state-invalid", check="state of another browser")
        if attempt.expires_at < datetime.now(UTC):
            raise LoginRefused("login-state-invalid", check="state expired")
        return attempt

    async def _link(self, db: AsyncSession, identity: VerifiedIdentity, person: Person) -> None:
        # The provider's subject only links to the person; the NRN decides who it is.
        now = datetime.now(UTC)
        await insert_unless_exists(
            db,
            ProviderLink,
            ["provider", "subject"],
            provider=identity.provider,
            subject=identity.subject,
            person_id=person.id,
            last_seen_at=now,
        )
        await db.execute(
            update(ProviderLink)
            .where(
                ProviderLink.provider == identity.provider,
                ProviderLink.subject == identity.subject,
            )
            .values(person_id=person.id, last_seen_at=now)
        )

    async def _record_refusal(
        self,
        db: AsyncSession,
        refusal: LoginRefused,
        provider: str,
        actor: Actor,
        nrn: NationalNumber | None,
    ) -> None:
        """The refusal goes into the person's history if we know who it was, else the
        platform's; nothing else of the attempt is kept. A provider that cannot be reached
        is the operator's to mend: it is also logged, with what failed."""
        if refusal.reason == "login-provider-unavailable":
            cause = refusal.__cause__
            log.warning(
                "identity provider %s unavailable",
                provider[:40],
                extra={
                    "refusal": refusal.detail,
                    "cause": f"{type(cause).__name__}: {cause}" if cause else None,
                },
            )
        await db.rollback()
        person = await self.people.by_nrn(db, nrn.digits) if nrn is not None else None
        await audit.record(
            db,
            subject_id=person.id if person is not None else PLATFORM_SUBJECT,
            action="idp:login:refused",
            actor=actor,
            target=provider[:40],
            detail={"provider": provider[:40], "reason": refusal.reason, **refusal.detail},
        )
        await db.commit()
