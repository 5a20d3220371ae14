"""A fake OpenID provider's side of the conversation: its names, the claims it issues,
the relying-party profiles that trust it, and the ways a token can be forged.

Shared by the relying party's unit tests (tests/unit/idp_bridge/test_oidc.py) and the
corpus of hostile provider answers (tests/corpus/openid/), so both speak of the same
provider at the same instant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tomllib
from typing import Any

import msgspec
from joserfc import jwe, jws
from joserfc.jwk import Key, RSAKey

from idp_bridge.interfaces import LoginRequest
from idp_bridge.oidc import BACKCHANNEL_EVENT
from kluis.settings import CONFIG_DIR, ProviderSettings

ISSUER = "https://op.test"
DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
AUTHORIZATION_ENDPOINT = f"{ISSUER}/authorize"
TOKEN_ENDPOINT = f"{ISSUER}/token"
USERINFO_ENDPOINT = f"{ISSUER}/userinfo"
JWKS_URI = f"{ISSUER}/jwks"
END_SESSION_ENDPOINT = f"{ISSUER}/logout"
DISCOVERY = {
    "issuer": ISSUER,
    "authorization_endpoint": AUTHORIZATION_ENDPOINT,
    "token_endpoint": TOKEN_ENDPOINT,
    "userinfo_endpoint": USERINFO_ENDPOINT,
    "jwks_uri": JWKS_URI,
    "end_session_endpoint": END_SESSION_ENDPOINT,
    "response_types_supported": ["code"],
    "subject_types_supported": ["pairwise"],
    "id_token_signing_alg_values_supported": ["RS256"],
}

CLIENT_ID = "kluis-rp"
CLIENT_SECRET = "plain-client-secret"
REDIRECT_URI = "https://kluis.test/auth/callback/op"
NOW = 1_750_000_000.0
NRN_CLAIM = "http://itsme.services/v2/claim/BENationalNumber"
ACR_ADVANCED = "http://itsme.services/v2/claim/acr_advanced"
ACR_BASIC = "http://itsme.services/v2/claim/acr_basic"
NRN = "85073003328"
SUBJECT = "op-subject-4711"
SID = "op-session-42"

STATE = "state-5b0c1d2e"
NONCE = "nonce-a9f8e7d6"
CODE_VERIFIER = "verifier-" + "x" * 48
CODE = "the-authorization-code"
LOGIN = LoginRequest(
    state=STATE, nonce=NONCE, code_verifier=CODE_VERIFIER, redirect_uri=REDIRECT_URI
)

JWE_REGISTRY = jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A128CBC-HS256"])
ENCRYPTION_HEADER = {"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256", "cty": "JWT"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: Any, key: Key, *, header: dict[str, Any] | None = None) -> str:
    """A JWS signed by `key`; the header names the key's kid unless given explicitly."""
    protected = header if header is not None else {"alg": "RS256", "kid": key.kid}
    return jws.serialize_compact(protected, json.dumps(claims), key, algorithms=[protected["alg"]])


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    """An `alg: none` token (RFC 7519 §6.1): header, payload and an empty signature."""
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any], key: RSAKey) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the provider's public key."""
    secret = key.as_pem(private=False)
    header = b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def encrypt(token: str, key: RSAKey) -> str:
    """Nest a JWS in a JWE (RSA-OAEP-256 + A128CBC-HS256, `cty: JWT`) for `key`."""
    header = {**ENCRYPTION_HEADER, "kid": key.kid}
    return jwe.encrypt_compact(header, token, key, registry=JWE_REGISTRY)


def id_token_claims(*, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": SUBJECT,
        "iat": int(NOW),
        "exp": int(NOW) + 300,
        "nonce": NONCE,
        "acr": ACR_ADVANCED,
        "sid": SID,
        "auth_time": int(NOW) - 5,
    }
    claims.update(changes)
    for name in drop:
        claims.pop(name, None)
    return claims


def userinfo_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": SUBJECT,
        NRN_CLAIM: NRN,
        "given_name": "Marie",
        "family_name": "Peeters",
        "birthdate": "1985-07-30",
        "email": "marie@example.be",
        "locale": "nl",
    }
    claims.update(changes)
    return claims


def logout_claims(*, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": int(NOW),
        "jti": "logout-jti-1",
        "sub": SUBJECT,
        "sid": SID,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update(changes)
    for name in drop:
        claims.pop(name, None)
    return claims


def itsme_settings() -> ProviderSettings:
    """The real itsme profile from config/providers/itsme.toml, pointed at the fake OP."""
    profile = tomllib.loads((CONFIG_DIR / "providers" / "itsme.toml").read_text())
    profile.update(discovery_url=DISCOVERY_URL, client_id=CLIENT_ID)
    return msgspec.convert(profile, ProviderSettings)


def plain_settings() -> ProviderSettings:
    """An unencrypted provider with the NRN in the ID token and client_secret_basic."""
    return ProviderSettings(
        label="Plain OP",
        discovery_url=DISCOVERY_URL,
        client_id=CLIENT_ID,
        client_auth="client_secret_basic",
        client_secret=CLIENT_SECRET,
        nrn_claim="egovNRN",
        loa={ACR_ADVANCED: "high", ACR_BASIC: "substantial"},
    )
