"""The identity provider Protocol and what crosses it. Framework-free."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from joserfc.jwk import KeySet, RSAKey


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a provider vouches for after a verified login. `nrn` is still unchecked here:
    the broker validates it (checksum, register, age) the same way for every provider."""

    provider: str
    subject: str
    nrn: str | None
    given_name: str
    surname: str
    email: str | None
    language: str | None
    loa: str
    birth_date: date | None
    sid: str | None = None
    # What the provider needs to end this session: an OpenID ID token, a SAML NameID.
    id_token: str | None = None

    def __repr__(self) -> str:  # never print the NRN
        return f"VerifiedIdentity(provider={self.provider!r}, loa={self.loa!r})"


@dataclass(frozen=True)
class LogoutForm:
    """A logout message the browser posts to the provider (SAML's HTTP-POST binding), for
    one that names the person in a way that must not travel in a URL."""

    action: str
    fields: dict[str, str]


@dataclass(frozen=True)
class LoginRequest:
    """The single-use secrets of one login, bound to one browser."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    login_hint: str | None = None


@dataclass(frozen=True)
class Keyring:
    """The platform's relying-party keys at this moment: one signing key, the encryption key
    providers are told to use, and every encryption key still allowed to decrypt (the
    current one and those in their overlap)."""

    signing: RSAKey
    encryption: RSAKey
    decryption: KeySet


@dataclass(frozen=True)
class LogoutToken:
    subject: str | None
    sid: str | None
    jti: str
    expires_at: float


class IdentityProvider(Protocol):
    name: str
    label: str
    min_loa: str
    # The provider answers with a cross-site form post (SAML's POST binding), not a redirect.
    posts_back: bool
    # The callback parameter that carries the login's state back (OpenID's `state`, SAML's
    # `RelayState`).
    state_parameter: str

    async def start(self, login: LoginRequest, keys: Keyring) -> str:
        """The URL to send the browser to."""
        ...

    async def complete(
        self, params: Mapping[str, str], login: LoginRequest, keys: Keyring
    ) -> VerifiedIdentity:
        """Finish the login from the callback parameters; raise `LoginRefused` if not."""
        ...

    async def end_session_url(
        self, id_token: str | None, post_logout_uri: str, keys: Keyring
    ) -> str | LogoutForm | None:
        """Where to send the browser to end the session at the provider (a URL, or a form
        to post), if it can."""
        ...

    async def verify_logout_token(self, token: str, keys: Keyring) -> LogoutToken:
        """Validate a back-channel logout token; raise `LoginRefused` if not valid."""
        ...
