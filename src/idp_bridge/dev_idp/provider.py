"""The development OpenID provider, mounted at `/dev-idp/` in development and test only.

It behaves like the real providers so the relying-party code path is the real one: it
serves discovery and a JWKS over HTTP, requires PKCE and client authentication
(`private_key_jwt` checked against the platform's published JWKS), opens signed-then-
encrypted request objects, and issues ID tokens and userinfo in one of two flavours:

- `itsme`: pairwise `sub`, ID token and userinfo signed (RS256) then encrypted
  (RSA-OAEP-256 / A128CBC-HS256), the NRN only in userinfo;
- `fas`: the federal service's claim names (`egovNRN`, `givenName`, …), signed ID token.

A client's flavour follows its provider settings: `egovNRN` as NRN claim means `fas`.
`login_hint=<11 digits>` logs that number in without the chooser: a demo citizen with their
data, or a synthetic person born on the date the number encodes (even if the number is
invalid, so tests can drive the relying party's own checks). State lives in memory: one
process, development only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlencode

import httpx
import stdnum.be.nn
from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from stdnum.exceptions import ValidationError

from idp_bridge.oidc import BACKCHANNEL_EVENT, JWE_ALGORITHMS
from idp_bridge.oidc.documents import tls_context
from idp_bridge.oidc.jose import encrypt_to
from kluis.demo import Demo, DemoCitizen
from kluis.settings import ProviderSettings, Settings

PATH = "/dev-idp"
ITSME_NRN = "http://itsme.services/v2/claim/BENationalNumber"
ACR = {
    "itsme": {
        "high": "http://itsme.services/v2/claim/acr_advanced",
        "substantial": "http://itsme.services/v2/claim/acr_basic",
    },
    "fas": {
        "high": "urn:be:fedict:iam:fas:Level500",
        "substantial": "urn:be:fedict:iam:fas:Level400",
        "low": "urn:be:fedict:iam:fas:Level100",
    },
}
CODE_TTL = 120


@dataclass
class DevClient:
    client_id: str
    provider: str
    flavour: str
    auth: str
    secret: str | None


@dataclass
class Grant:
    client: DevClient
    redirect_uri: str
    nonce: str | None
    code_challenge: str
    state: str | None
    person: DemoCitizen
    level: str
    expires: float
    sid: str


@dataclass
class PendingAuthorization:
    client: DevClient
    params: dict[str, Any]
    expires: float


class OAuthFailure(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class DevIdentityProvider:
    """The provider's state: its keys, clients, pending authorizations, codes and tokens."""

    def __init__(self, settings: Settings, demo: Demo) -> None:
        self.issuer = f"{settings.base_url}{PATH}"
        self.rp_jwks_uri = f"{settings.base_url}/.well-known/jwks.json"
        self.callback_base = f"{settings.base_url}/auth/callback/"
        self.post_logout_base = f"{settings.base_url}/"
        self.demo = demo
        self.sig = RSAKey.generate_key(
            2048, parameters={"kid": "dev-sig", "use": "sig", "alg": "RS256"}, private=True
        )
        self.enc = RSAKey.generate_key(
            2048, parameters={"kid": "dev-enc", "use": "enc", "alg": "RSA-OAEP-256"}, private=True
        )
        self.pairwise_salt = secrets.token_bytes(16)
        self.clients = {
            p.client_id: DevClient(
                client_id=p.client_id,
                provider=name,
                flavour="fas" if p.nrn_claim == "egovNRN" else "itsme",
                auth=p.client_auth,
                secret=p.client_secret,
            )
            for name, p in settings.providers.items()
            if isinstance(p, ProviderSettings) and p.discovery_url.startswith(self.issuer)
        }
        self.pending: dict[str, PendingAuthorization] = {}
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}

    # -- helpers ------------------------------------------------------------------------

    async def rp_keys(self) -> KeySet:
        async with httpx.AsyncClient(timeout=5.0, verify=tls_context()) as http:
            return KeySet.import_key_set((await http.get(self.rp_jwks_uri)).json())

    def person_for(self, digits: str) -> DemoCitizen:
        for citizen in self.demo.citizens:
            if citizen.nrn == digits:
                return citizen
        return DemoCitizen(nrn=digits, given_name="Test", surname=f"Persoon {digits[:6]}")

    def subject(self, grant: Grant) -> str:
        # itsme's `sub` is pairwise per client; the federal service's is stable.
        salt = self.pairwise_salt + grant.client.client_id.encode()
        return hmac.new(salt, grant.person.nrn.encode(), hashlib.sha256).hexdigest()[:32]

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/end-session",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "id_token_encryption_alg_values_supported": ["RSA-OAEP-256"],
            "id_token_encryption_enc_values_supported": ["A128CBC-HS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "request_parameter_supported": True,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
        }

    async def read_authorization(self, params: dict[str, str]) -> tuple[DevClient, dict[str, Any]]:
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise OAuthFailure("invalid_client", "unknown client_id")
        if "request" in params:
            request = params["request"]
            try:
                if request.count(".") == 4:
                    request = jwe.decrypt_compact(
                        request, self.enc, registry=jwe.JWERegistry(algorithms=JWE_ALGORITHMS)
                    ).plaintext.decode()
                token = jwt.decode(request, await self.rp_keys(), algorithms=["RS256"])
            except (JoseError, ValueError) as exc:
                raise OAuthFailure("invalid_request_object", str(exc)) from exc
            if (
                token.claims.get("iss") != client.client_id
                or token.claims.get("aud") != self.issuer
            ):
                raise OAuthFailure("invalid_request_object", "wrong iss or aud")
            params = {**params, **token.claims}
        if params.get("redirect_uri") != self.callback_base + client.provider:
            raise OAuthFailure("invalid_request", "redirect_uri not registered")
        if params.get("response_type") != "code":
            raise OAuthFailure("unsupported_response_type", "only code")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise OAuthFailure("invalid_request", "PKCE S256 required")
        return client, params

    def grant(
        self, client: DevClient, params: dict[str, Any], person: DemoCitizen, level: str
    ) -> str:
        grant = Grant(
            client=client,
            redirect_uri=params["redirect_uri"],
            nonce=params.get("nonce"),
            code_challenge=params["code_challenge"],
            state=params.get("state"),
            person=person,
            level=level,
            expires=time.time() + CODE_TTL,
            sid=secrets.token_urlsafe(16),
        )
        code = secrets.token_urlsafe(24)
        self.codes[code] = grant
        query = {"code": code, **({"state": grant.state} if grant.state else {})}
        return f"{grant.redirect_uri}?{urlencode(query)}"

    async def authenticate_client(self, authorization: str, form: dict[str, str]) -> DevClient:
        assertion = form.get("client_assertion")
        if assertion:
            try:
                claims = jwt.decode(assertion, await self.rp_keys(), algorithms=["RS256"]).claims
            except (JoseError, ValueError) as exc:
                raise OAuthFailure("invalid_client", "bad client assertion", 401) from exc
            client = self.clients.get(claims.get("iss", ""))
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if (
                client is None
                or claims.get("sub") != client.client_id
                or not ({f"{self.issuer}/token", self.issuer} & set(audiences))
                or claims.get("exp", 0) < time.time()
            ):
                raise OAuthFailure("invalid_client", "client assertion claims", 401)
            return client
        if authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except ValueError as exc:  # binascii.Error and UnicodeDecodeError alike
                raise OAuthFailure("invalid_client", "malformed basic credentials", 401) from exc
            client_id, _, secret = (unquote_plus(part) for part in decoded.partition(":"))
            client = self.clients.get(client_id)
            if client and client.secret and hmac.compare_digest(client.secret, secret):
                return client
        raise OAuthFailure("invalid_client", "client authentication failed", 401)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.sig.kid}, claims, self.sig)

    async def encrypt_for_client(self, signed: str) -> str:
        targets = [k for k in (await self.rp_keys()).keys if k.get("use") == "enc"]
        return encrypt_to(targets[0], signed)

    def person_claims(self, grant: Grant) -> dict[str, Any]:
        p = grant.person
        birth = _birth_date(p.nrn)
        if grant.client.flavour == "fas":
            return {
                "egovNRN": p.nrn,
                "givenName": p.given_name,
                "surname": p.surname,
                "mail": p.email,
                "prefLanguage": p.language,
            }
        return {
            ITSME_NRN: p.nrn,
            "given_name": p.given_name,
            "family_name": p.surname,
            "email": p.email,
            "locale": p.language,
            "birthdate": birth,
        }

    async def token_response(self, grant: Grant) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject(grant),
            "aud": grant.client.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": grant.nonce,
            "acr": ACR[grant.client.flavour].get(grant.level),
            "sid": grant.sid,
        }
        if grant.client.flavour == "fas":
            claims.update(self.person_claims(grant))
            id_token = self.sign(claims)
        else:
            id_token = await self.encrypt_for_client(self.sign(claims))
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = grant
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def logout_token(self, client_id: str, sid: str | None, sub: str | None) -> str:
        """A back-channel logout token as this provider would send it (for tests)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(12),
            "events": {BACKCHANNEL_EVENT: {}},
        }
        claims.update({k: v for k, v in (("sid", sid), ("sub", sub)) if v})
        return self.sign(claims)


def _birth_date(digits: str) -> str | None:
    try:
        return stdnum.be.nn.get_birth_date(digits).isoformat()
    except (ValueError, ValidationError):  # a synthetic number may encode no real date
        return None
