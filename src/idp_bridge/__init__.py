"""Identity: national registry numbers, people, identity providers, sessions and logout."""

from __future__ import annotations

from idp_bridge.domain import LoginRefused, NationalNumber, loa_at_least, make_nrn, parse_nrn
from idp_bridge.interfaces import IdentityProvider, VerifiedIdentity
from idp_bridge.models import Person
from idp_bridge.oidc import OIDCProvider
from idp_bridge.services import CurrentSession, IdentityBroker, nrn_index, seal_nrn
from kluis.settings import Settings


def build_providers(settings: Settings) -> dict[str, IdentityProvider]:
    """One provider per `[providers.<name>]` in the settings."""
    return {
        name: OIDCProvider(name, config, redirect_uri=f"{settings.base_url}/auth/callback/{name}")
        for name, config in settings.providers.items()
    }


__all__ = [
    "CurrentSession",
    "IdentityBroker",
    "IdentityProvider",
    "LoginRefused",
    "NationalNumber",
    "Person",
    "VerifiedIdentity",
    "build_providers",
    "loa_at_least",
    "make_nrn",
    "nrn_index",
    "parse_nrn",
    "seal_nrn",
]
