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
from urllib.parse import urlencode

import httpx
import stdnum.be.nn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from stdnum.exceptions import ValidationError

from idp_bridge.oidc import BACKCHANNEL_EVENT, JWE_ALGORITHMS
from kluis.demo import Demo, DemoCitizen
from kluis.settings import Settings

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

    def __init__(self, settings: NamedDependency[Settings], demo: Demo) -> None:
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
            if p.discovery_url.startswith(self.issuer)
        }
        self.pending: dict[str, PendingAuthorization] = {}
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}

    # -- helpers ------------------------------------------------------------------------

    async def rp_keys(self) -> KeySet:
        async with httpx.AsyncClient(timeout=5.0) as http:
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

    async def authenticate_client(self, request: Request, form: dict[str, str]) -> DevClient:
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
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            client = self.clients.get(client_id)
            if client and client.secret and hmac.compare_digest(client.secret, secret):
                return client
        raise OAuthFailure("invalid_client", "client authentication failed", 401)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.sig.kid}, claims, self.sig)

    async def encrypt_for_client(self, signed: str) -> str:
        targets = [k for k in (await self.rp_keys()).keys if k.get("use") == "enc"]
        header = {
            "alg": "RSA-OAEP-256",
            "enc": "A128CBC-HS256",
            "cty": "JWT",
            "kid": targets[0].kid,
        }
        return jwe.encrypt_compact(
            header, signed, targets[0], registry=jwe.JWERegistry(algorithms=JWE_ALGORITHMS)
        )

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


def _oauth_error(failure: OAuthFailure) -> Response:
    return Response(
        content={"error": failure.error, "error_description": failure.description},
        status_code=failure.status,
    )


class DevIdentityProviderController(Controller):
    path = PATH
    include_in_schema = False

    @get("/.well-known/openid-configuration")
    async def discovery(self, dev_idp: NamedDependency[DevIdentityProvider]) -> dict[str, Any]:
        return dev_idp.metadata()

    @get("/jwks")
    async def jwks(self, dev_idp: NamedDependency[DevIdentityProvider]) -> dict[str, Any]:
        return {"keys": [dev_idp.sig.as_dict(private=False), dev_idp.enc.as_dict(private=False)]}

    @get("/authorize")
    async def authorize(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        try:
            client, params = await dev_idp.read_authorization(dict(request.query_params))
        except OAuthFailure as failure:
            return Template(
                "idp_bridge/dev_idp_error.html",
                context={"error": failure.error, "description": failure.description},
                status_code=400,
            )
        hint = str(params.get("login_hint") or "")
        if len(hint) == 11 and hint.isdigit():
            return Redirect(dev_idp.grant(client, params, dev_idp.person_for(hint), "high"))
        ticket = secrets.token_urlsafe(16)
        dev_idp.pending[ticket] = PendingAuthorization(client, params, time.time() + 600)
        return Template(
            "idp_bridge/dev_idp_chooser.html",
            context={
                "ticket": ticket,
                "citizens": dev_idp.demo.citizens,
                "flavour": client.flavour,
            },
        )

    @post("/authorize")
    async def choose(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        form = dict(await request.form())
        pending = dev_idp.pending.pop(str(form.get("ticket", "")), None)
        if pending is None or pending.expires < time.time():
            return Template(
                "idp_bridge/dev_idp_error.html",
                context={"error": "expired", "description": "start again"},
                status_code=400,
            )
        params = pending.params
        if form.get("cancel"):
            query = {"error": "access_denied", "state": params.get("state", "")}
            return Redirect(f"{params['redirect_uri']}?{urlencode(query)}")
        person = dev_idp.person_for(str(form.get("nrn", "")))
        level = str(form.get("level", "high"))
        return Redirect(dev_idp.grant(pending.client, params, person, level))

    @post("/token", exclude_from_csrf=True, status_code=200)
    async def token(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = await dev_idp.authenticate_client(request, form)
            grant = dev_idp.codes.pop(form.get("code", ""), None)
            if (
                grant is None
                or grant.expires < time.time()
                or grant.client.client_id != client.client_id
                or grant.redirect_uri != form.get("redirect_uri")
            ):
                raise OAuthFailure("invalid_grant", "unknown, used or expired code")
            verifier = form.get("code_verifier", "")
            if not verifier or create_s256_code_challenge(verifier) != grant.code_challenge:
                raise OAuthFailure("invalid_grant", "PKCE verification failed")
            return Response(await dev_idp.token_response(grant))
        except OAuthFailure as failure:
            return _oauth_error(failure)

    @get("/userinfo")
    async def userinfo(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        grant = dev_idp.tokens.get(token)
        if grant is None:
            return _oauth_error(OAuthFailure("invalid_token", "unknown access token", 401))
        claims = {"sub": dev_idp.subject(grant), **dev_idp.person_claims(grant)}
        if grant.client.flavour == "fas":
            return Response(claims)
        signed = dev_idp.sign({**claims, "iss": dev_idp.issuer, "aud": grant.client.client_id})
        return Response(await dev_idp.encrypt_for_client(signed), media_type="application/jwt")

    @get("/end-session")
    async def end_session(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        target = request.query_params.get("post_logout_redirect_uri", "")
        if not target.startswith(dev_idp.post_logout_base):
            target = dev_idp.post_logout_base
        return Redirect(target)
