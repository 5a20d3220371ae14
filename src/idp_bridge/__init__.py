"""Identity: national registry numbers, people, identity providers, sessions and logout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis

from idp_bridge.domain import LoginRefused, NationalNumber, loa_at_least, make_nrn, parse_nrn
from idp_bridge.interfaces import IdentityProvider, VerifiedIdentity
from idp_bridge.models import Person
from idp_bridge.oidc import OIDCProvider
from idp_bridge.routes import current, identity_of, request_actor, requires_login
from idp_bridge.rp_keys import RelyingPartyKeys
from idp_bridge.saml import SAMLProvider
from idp_bridge.services import (
    CurrentSession,
    EmailAddresses,
    IdentityBroker,
    People,
    Sessions,
    masked_nrn,
    nrn_index,
    seal_nrn,
)
from idp_bridge.services.session_cache import SessionCache
from idp_bridge.services.sessions import TOUCH_INTERVAL
from kluis.hooks import Hooks
from kluis.keys import KeyProvider
from kluis.settings import ProviderSettings, Settings
from kluis.tasks import Tasks


@dataclass(frozen=True)
class Identity:
    """The identity domain's services, built once by the composition root."""

    people: People
    sessions: Sessions
    broker: IdentityBroker
    rp_keys: RelyingPartyKeys
    emails: EmailAddresses

    def close(self) -> None:
        """Remove what the providers keep on disk (the SAML key files for xmlsec1)."""
        for provider in self.broker.providers.values():
            if isinstance(provider, SAMLProvider):
                provider.remove_key_files()


def build_providers(settings: Settings) -> dict[str, IdentityProvider]:
    """One provider per `[providers.<name>]` in the settings."""
    return {
        name: OIDCProvider(name, config)
        if isinstance(config, ProviderSettings)
        else SAMLProvider(name, config, settings.base_url)
        for name, config in settings.providers.items()
    }


def build_identity(
    settings: Settings,
    keys: KeyProvider,
    hooks: Hooks,
    providers: dict[str, IdentityProvider] | None = None,
    *,
    tasks: Tasks | None = None,
    redis: Redis | None = None,
) -> Identity:
    providers = build_providers(settings) if providers is None else providers
    rp_keys = RelyingPartyKeys(keys)
    people = People(settings, keys, hooks)
    cache = (
        SessionCache(redis, timedelta(minutes=settings.session.idle_minutes), TOUCH_INTERVAL)
        if redis is not None
        else None
    )
    sessions = Sessions(settings, keys, providers, hooks, rp_keys, cache)
    broker = IdentityBroker(settings, providers, people, sessions, rp_keys)
    emails = EmailAddresses(settings, keys, tasks or Tasks(settings))
    return Identity(people=people, sessions=sessions, broker=broker, rp_keys=rp_keys, emails=emails)


__all__ = [
    "CurrentSession",
    "Identity",
    "IdentityProvider",
    "LoginRefused",
    "NationalNumber",
    "Person",
    "VerifiedIdentity",
    "build_identity",
    "build_providers",
    "current",
    "identity_of",
    "loa_at_least",
    "make_nrn",
    "masked_nrn",
    "nrn_index",
    "parse_nrn",
    "request_actor",
    "requires_login",
    "seal_nrn",
]
