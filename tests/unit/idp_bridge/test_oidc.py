"""Unit tests for the OpenID Connect relying party (`idp_bridge.oidc.OIDCProvider`).

The fake provider's names, claims and forgeries come from tests/support/openid.py; its
keys and HTTP side live here: a discovery document and a JWKS with a signing and an
encryption key, mocked with respx. Tests are named after the OpenID relying-party
conformance cases they cover.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from joserfc import jwe, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey

from idp_bridge.domain import LoginRefused
from idp_bridge.interfaces import Keyring, LoginRequest, LogoutToken, VerifiedIdentity
from idp_bridge.oidc import BACKCHANNEL_EVENT, JWE_ALGORITHMS, OIDCProvider
from tests.support import openid
from tests.support.openid import (
    ACR_ADVANCED,
    ACR_BASIC,
    AUTHORIZATION_ENDPOINT,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    CODE_VERIFIER,
    DISCOVERY,
    DISCOVERY_URL,
    ENCRYPTION_HEADER,
    END_SESSION_ENDPOINT,
    ISSUER,
    JWE_REGISTRY,
    JWKS_URI,
    LOGIN,
    NONCE,
    NOW,
    NRN,
    NRN_CLAIM,
    REDIRECT_URI,
    SID,
    STATE,
    SUBJECT,
    TOKEN_ENDPOINT,
    USERINFO_ENDPOINT,
    b64,
    id_token_claims,
    itsme_settings,
    logout_claims,
    plain_settings,
    unsigned,
    userinfo_claims,
)

# -- the fake provider --------------------------------------------------------------------

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _rsa(kid: str, use: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": use}, private=True)


# Generating RSA keys is slow: every key is made once, when the module is imported.
OP_SIGNING = _rsa("op-sig-1", "sig")
OP_SIGNING_ROTATED = _rsa("op-sig-2", "sig")
OP_ENCRYPTION = _rsa("op-enc-1", "enc")
ATTACKER = _rsa("op-sig-1", "sig")  # the provider's kid, someone else's key
RP_SIGNING = _rsa("rp-sig-1", "sig")
RP_ENCRYPTION = _rsa("rp-enc-1", "enc")
RP_ENCRYPTION_NEXT = _rsa("rp-enc-2", "enc")
NOT_THE_RP = _rsa("rp-enc-1", "enc")  # the RP's kid, a key the RP does not hold

KEYRING = Keyring(signing=RP_SIGNING, encryption=RP_ENCRYPTION, decryption=KeySet([RP_ENCRYPTION]))


def sign(
    claims: dict[str, Any], key: RSAKey = OP_SIGNING, *, header: dict[str, Any] | None = None
) -> str:
    return openid.sign(claims, key, header=header)


def hs256_with_public_key(claims: dict[str, Any]) -> str:
    return openid.hs256_with_public_key(claims, OP_SIGNING)


def encrypt(token: str, key: RSAKey = RP_ENCRYPTION) -> str:
    return openid.encrypt(token, key)


class FakeOP:
    """The provider's HTTP side. Tests change what it publishes and answers."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.signing_keys: list[RSAKey] = [OP_SIGNING]
        self.encryption_keys: list[RSAKey] = [OP_ENCRYPTION]
        self.token_status = 200
        self.token_body: dict[str, Any] = {}
        self.userinfo_body = b""
        self.userinfo_type = "application/jwt"
        self.discovery_route = router.get(DISCOVERY_URL).mock(
            return_value=httpx.Response(200, json=DISCOVERY)
        )
        self.jwks_route = router.get(JWKS_URI).mock(side_effect=self._jwks)
        self.token_route = router.post(TOKEN_ENDPOINT).mock(side_effect=self._token)
        self.userinfo_route = router.get(USERINFO_ENDPOINT).mock(side_effect=self._userinfo)

    def jwks(self) -> dict[str, Any]:
        keys = [*self.signing_keys, *self.encryption_keys]
        return {"keys": [key.as_dict(private=False) for key in keys]}

    def _jwks(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=self.jwks())

    def _token(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.token_status, json=self.token_body)

    def _userinfo(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=self.userinfo_body, headers={"content-type": self.userinfo_type}
        )

    def answer(
        self, id_token: str, *, userinfo: str | dict[str, Any] | None = None, **extra: Any
    ) -> None:
        """What the token and userinfo endpoints return for the next code exchange."""
        self.token_body = {
            "access_token": "op-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
            **extra,
        }
        if isinstance(userinfo, dict):
            self.userinfo_body = json.dumps(userinfo).encode()
            self.userinfo_type = "application/json"
        elif isinstance(userinfo, str):
            self.userinfo_body = userinfo.encode()
            self.userinfo_type = "application/jwt"


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def op() -> Iterator[FakeOP]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield FakeOP(router)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def itsme(op: FakeOP, clock: Clock) -> OIDCProvider:
    return OIDCProvider("itsme", itsme_settings(), clock=clock)


@pytest.fixture
def plain(op: FakeOP, clock: Clock) -> OIDCProvider:
    return OIDCProvider("plain", plain_settings(), clock=clock)


async def refused_id_token(provider: OIDCProvider, token: str, nonce: str = NONCE) -> LoginRefused:
    with pytest.raises(LoginRefused) as caught:
        await provider.verify_id_token(token, nonce, KEYRING)
    return caught.value


async def refused_logout(provider: OIDCProvider, token: str) -> LoginRefused:
    with pytest.raises(LoginRefused) as caught:
        await provider.verify_logout_token(token, KEYRING)
    return caught.value


async def refused_login(
    provider: OIDCProvider, params: dict[str, str] | None = None
) -> LoginRefused:
    with pytest.raises(LoginRefused) as caught:
        await provider.complete(params or {"code": CODE, "state": STATE}, LOGIN, KEYRING)
    return caught.value


def assert_token_invalid(refusal: LoginRefused, check: str) -> None:
    assert refusal.type == "login-token-invalid"
    assert refusal.status == 400
    assert refusal.detail["check"] == check


def s256(verifier: str) -> str:
    return b64(hashlib.sha256(verifier.encode("ascii")).digest())


# -- rp-response_type-code: the whole login --------------------------------------------------


async def test_rp_response_type_code(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(
        encrypt(sign(id_token_claims())),
        userinfo=encrypt(sign(userinfo_claims(iss=ISSUER, aud=CLIENT_ID))),
    )

    identity = await itsme.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)

    assert isinstance(identity, VerifiedIdentity)
    assert identity.provider == "itsme"
    assert identity.subject == SUBJECT
    assert identity.nrn == NRN  # only the userinfo carries it
    assert identity.given_name == "Marie"
    assert identity.surname == "Peeters"
    assert identity.email == "marie@example.be"
    assert identity.language == "nl"
    assert identity.birth_date is not None and identity.birth_date.isoformat() == "1985-07-30"
    assert identity.loa == "high"
    assert identity.sid == SID
    # The session keeps the signed (decrypted) ID token, usable as an id_token_hint.
    assert identity.id_token is not None and identity.id_token.count(".") == 2
    assert jwt.decode(identity.id_token, OP_SIGNING).claims["nonce"] == NONCE
    assert op.token_route.call_count == 1
    assert op.userinfo_route.call_count == 1
    assert op.userinfo_route.calls.last.request.headers["authorization"] == (
        "Bearer op-access-token"
    )


async def test_rp_response_type_code_plain_profile(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(
        sign(id_token_claims(egovNRN=NRN, acr=ACR_BASIC, given_name="Jan", family_name="Claes")),
        userinfo={"sub": SUBJECT, "email": "jan@example.be"},
    )

    identity = await plain.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)

    assert identity.nrn == NRN  # from the ID token
    assert (identity.given_name, identity.surname) == ("Jan", "Claes")
    assert identity.email == "jan@example.be"  # from the JSON userinfo
    assert identity.loa == "substantial"


async def test_rp_response_type_code_unknown_acr_is_low(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims(acr="urn:unknown")), userinfo={"sub": SUBJECT})
    identity = await plain.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)
    assert identity.loa == "low"


# -- the authorization request ---------------------------------------------------------------


async def test_rp_authorization_request_pkce_s256(plain: OIDCProvider) -> None:
    url = await plain.start(LOGIN, KEYRING)

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZATION_ENDPOINT
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["state"] == STATE
    assert query["nonce"] == NONCE
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == s256(CODE_VERIFIER)
    assert CODE_VERIFIER not in url
    assert "request" not in query


async def test_rp_nrn_login_hint_never_travels_in_clear(plain: OIDCProvider) -> None:
    login = LoginRequest(
        state=STATE,
        nonce=NONCE,
        code_verifier=CODE_VERIFIER,
        redirect_uri=REDIRECT_URI,
        login_hint="85073003328",
    )
    url = await plain.start(login, KEYRING)
    assert "85073003328" not in url
    assert "login_hint" not in url


async def test_rp_other_login_hints_are_passed_on(plain: OIDCProvider) -> None:
    login = LoginRequest(
        state=STATE,
        nonce=NONCE,
        code_verifier=CODE_VERIFIER,
        redirect_uri=REDIRECT_URI,
        login_hint="jan@example.test",
    )
    query = parse_qs(urlsplit(await plain.start(login, KEYRING)).query)
    assert query["login_hint"] == ["jan@example.test"]


async def test_rp_request_object_to_a_provider_key_without_use(
    itsme: OIDCProvider, op: FakeOP
) -> None:
    bare = RSAKey.import_key(
        {k: v for k, v in OP_ENCRYPTION.as_dict(private=True).items() if k != "use"}
    )
    op.encryption_keys = [bare]
    url = await itsme.start(LOGIN, KEYRING)
    request = parse_qs(urlsplit(url).query)["request"][0]
    assert jwe.decrypt_compact(request, OP_ENCRYPTION, registry=JWE_REGISTRY).plaintext


async def test_rp_request_object_signed_and_encrypted(itsme: OIDCProvider) -> None:
    url = await itsme.start(LOGIN, KEYRING)

    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    # Only what OAuth needs outside the request object; the rest is inside it.
    assert set(query) == {"response_type", "client_id", "redirect_uri", "scope", "request"}
    assert query["client_id"] == CLIENT_ID
    assert query["scope"] == "openid eid profile email"
    assert query["request"].count(".") == 4  # a JWE

    decrypted = jwe.decrypt_compact(query["request"], OP_ENCRYPTION, registry=JWE_REGISTRY)
    assert decrypted.headers()["alg"] == "RSA-OAEP-256"
    assert decrypted.headers()["enc"] == "A128CBC-HS256"
    assert decrypted.headers()["cty"] == "JWT"
    assert decrypted.headers()["kid"] == OP_ENCRYPTION.kid
    assert decrypted.plaintext is not None
    inner = decrypted.plaintext.decode()

    rp_public = RSAKey.import_key(RP_SIGNING.as_dict(private=False))
    verified = jwt.decode(inner, rp_public)
    assert verified.header["alg"] == "RS256"
    assert verified.header["kid"] == RP_SIGNING.kid
    claims = verified.claims
    assert claims["state"] == STATE
    assert claims["nonce"] == NONCE
    assert claims["redirect_uri"] == REDIRECT_URI
    assert claims["code_challenge"] == s256(CODE_VERIFIER)
    assert claims["code_challenge_method"] == "S256"
    assert claims["response_type"] == "code"
    assert claims["client_id"] == claims["iss"] == CLIENT_ID
    assert claims["aud"] == ISSUER
    assert claims["acr_values"] == ACR_ADVANCED
    assert claims["claims"]["userinfo"][NRN_CLAIM] == {"essential": True}
    assert claims["exp"] > claims["iat"] == int(NOW)

    # Someone else's key cannot verify the request object.
    with pytest.raises(BadSignatureError):
        jwt.decode(inner, RSAKey.import_key(OP_SIGNING.as_dict(private=False)))


async def test_rp_request_object_without_provider_enc_key(itsme: OIDCProvider, op: FakeOP) -> None:
    op.encryption_keys = []
    with pytest.raises(LoginRefused) as caught:
        await itsme.start(LOGIN, KEYRING)
    assert caught.value.type == "login-provider-unavailable"
    assert caught.value.detail["check"] == "no provider enc key"


# -- the token request -------------------------------------------------------------------------


async def test_rp_token_endpoint_private_key_jwt(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(encrypt(sign(id_token_claims())), userinfo=encrypt(sign(userinfo_claims())))

    await itsme.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)

    request = op.token_route.calls.last.request
    assert "authorization" not in request.headers
    form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == CODE
    assert form["code_verifier"] == CODE_VERIFIER
    assert form["redirect_uri"] == REDIRECT_URI
    assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert "client_secret" not in form

    rp_public = RSAKey.import_key(RP_SIGNING.as_dict(private=False))
    assertion = jwt.decode(form["client_assertion"], rp_public)
    assert assertion.header["alg"] == "RS256"
    assert assertion.header["kid"] == RP_SIGNING.kid
    assert assertion.claims["iss"] == assertion.claims["sub"] == CLIENT_ID
    assert assertion.claims["aud"] == TOKEN_ENDPOINT
    assert assertion.claims["jti"]
    assert assertion.claims["exp"] > assertion.claims["iat"]
    with pytest.raises(BadSignatureError):
        jwt.decode(form["client_assertion"], ATTACKER)


async def test_rp_token_endpoint_client_secret_basic(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims()), userinfo={"sub": SUBJECT})

    await plain.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)

    request = op.token_route.calls.last.request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
    assert form["code_verifier"] == CODE_VERIFIER
    assert "client_assertion" not in form


# -- provider errors ---------------------------------------------------------------------------


async def test_rp_callback_error_parameter(itsme: OIDCProvider, op: FakeOP) -> None:
    refusal = await refused_login(
        itsme, {"error": "access_denied", "error_description": "user said no", "state": STATE}
    )
    assert refusal.type == "login-provider-error"
    assert refusal.status == 400
    assert refusal.detail["error"] == "access_denied"
    assert op.token_route.call_count == 0


async def test_rp_callback_without_code(itsme: OIDCProvider, op: FakeOP) -> None:
    refusal = await refused_login(itsme, {"state": STATE})
    assert refusal.type == "login-provider-error"
    assert refusal.detail["error"] == "no code"
    assert op.token_route.call_count == 0


async def test_rp_token_endpoint_oauth_error(itsme: OIDCProvider, op: FakeOP) -> None:
    op.token_status = 400
    op.token_body = {"error": "invalid_grant", "error_description": "code already used"}
    refusal = await refused_login(itsme)
    assert refusal.type == "login-provider-error"
    assert refusal.detail["error"] == "invalid_grant"
    assert op.userinfo_route.call_count == 0


async def test_rp_token_endpoint_server_error(itsme: OIDCProvider, op: FakeOP) -> None:
    op.token_status = 502
    op.token_body = {}
    refusal = await refused_login(itsme)
    assert refusal.type == "login-provider-unavailable"
    assert refusal.status == 503


async def test_rp_token_response_without_id_token(plain: OIDCProvider, op: FakeOP) -> None:
    op.token_body = {"access_token": "op-access-token", "token_type": "Bearer"}
    assert_token_invalid(await refused_login(plain), "no id_token")


async def test_rp_token_response_not_json(itsme: OIDCProvider, op: FakeOP) -> None:
    op.token_route.side_effect = lambda request: httpx.Response(200, html="<h1>Gateway</h1>")
    refusal = await refused_login(itsme)
    assert refusal.type == "login-provider-error"
    assert refusal.detail["error"] == "invalid token response"


async def test_rp_provider_unreachable(itsme: OIDCProvider, op: FakeOP) -> None:
    op.token_route.side_effect = httpx.ConnectError("connection refused")
    refusal = await refused_login(itsme)
    assert refusal.type == "login-provider-unavailable"
    assert refusal.status == 503
    assert refusal.detail["check"] == "token endpoint"


async def test_rp_discovery_unreachable(itsme: OIDCProvider, op: FakeOP) -> None:
    op.discovery_route.side_effect = httpx.ConnectError("connection refused")
    with pytest.raises(LoginRefused) as caught:
        await itsme.start(LOGIN, KEYRING)
    assert caught.value.type == "login-provider-unavailable"
    assert caught.value.status == 503


async def test_rp_discovery_not_json(itsme: OIDCProvider, op: FakeOP) -> None:
    op.discovery_route.return_value = httpx.Response(200, html="<h1>Maintenance</h1>")
    with pytest.raises(LoginRefused) as caught:
        await itsme.start(LOGIN, KEYRING)
    assert caught.value.type == "login-provider-unavailable"
    assert caught.value.detail["check"] == "not json"


async def test_rp_discovery_not_an_object(itsme: OIDCProvider, op: FakeOP) -> None:
    op.discovery_route.return_value = httpx.Response(200, json=[DISCOVERY])
    with pytest.raises(LoginRefused) as caught:
        await itsme.start(LOGIN, KEYRING)
    assert caught.value.type == "login-provider-unavailable"
    assert caught.value.detail["check"] == "not a json object"


async def test_rp_discovery_without_jwks_uri(itsme: OIDCProvider, op: FakeOP) -> None:
    incomplete = {k: v for k, v in DISCOVERY.items() if k != "jwks_uri"}
    op.discovery_route.return_value = httpx.Response(200, json=incomplete)
    with pytest.raises(LoginRefused) as caught:
        await itsme.start(LOGIN, KEYRING)
    assert caught.value.type == "login-provider-unavailable"
    assert caught.value.detail["check"] == "no jwks_uri"


async def test_rp_jwks_unreachable(plain: OIDCProvider, op: FakeOP) -> None:
    op.jwks_route.side_effect = httpx.ConnectError("connection refused")
    refusal = await refused_id_token(plain, sign(id_token_claims()))
    assert refusal.type == "login-provider-unavailable"
    assert refusal.status == 503


async def test_rp_userinfo_unreachable(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims()))
    op.userinfo_route.side_effect = httpx.ConnectError("connection refused")
    refusal = await refused_login(plain)
    assert refusal.type == "login-provider-unavailable"
    assert refusal.status == 503


# -- ID token checks (OpenID Connect Core §3.1.3.7) ---------------------------------------------


async def test_rp_id_token_valid(plain: OIDCProvider) -> None:
    claims, signed = await plain.verify_id_token(sign(id_token_claims()), NONCE, KEYRING)
    assert claims["sub"] == SUBJECT
    assert signed.count(".") == 2


async def test_rp_nonce_invalid(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(nonce="someone-elses-nonce"))
    assert_token_invalid(await refused_id_token(plain, token), "nonce mismatch")


async def test_rp_nonce_missing(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(drop=("nonce",)))
    assert_token_invalid(await refused_id_token(plain, token), "nonce mismatch")


async def test_rp_nonce_invalid_in_complete(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims(nonce="replayed")), userinfo={"sub": SUBJECT})
    assert_token_invalid(await refused_login(plain), "nonce mismatch")
    assert op.userinfo_route.call_count == 0


async def test_rp_id_token_bad_sig_rs256(plain: OIDCProvider) -> None:
    forged = sign(id_token_claims(), ATTACKER)  # the provider's kid, another key
    assert_token_invalid(await refused_id_token(plain, forged), "bad signature")


async def test_rp_id_token_bad_sig_rs256_tampered_payload(plain: OIDCProvider) -> None:
    header, _, signature = sign(id_token_claims()).split(".")
    payload = b64(json.dumps(id_token_claims(sub="someone-else")).encode())
    tampered = f"{header}.{payload}.{signature}"
    assert_token_invalid(await refused_id_token(plain, tampered), "bad signature")


async def test_rp_id_token_sig_none(plain: OIDCProvider) -> None:
    refusal = await refused_id_token(plain, unsigned(id_token_claims()))
    assert_token_invalid(refusal, "alg none not allowed")


async def test_rp_id_token_hs256_with_provider_public_key(plain: OIDCProvider) -> None:
    refusal = await refused_id_token(plain, hs256_with_public_key(id_token_claims()))
    assert_token_invalid(refusal, "alg HS256 not allowed")


async def test_rp_id_token_malformed(plain: OIDCProvider) -> None:
    assert_token_invalid(await refused_id_token(plain, "not.a-token"), "malformed")


async def test_rp_id_token_issuer_mismatch(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(iss="https://evil.test"))
    assert_token_invalid(await refused_id_token(plain, token), "issuer mismatch")


async def test_rp_id_token_aud(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(aud="some-other-client"))
    assert_token_invalid(await refused_id_token(plain, token), "audience mismatch")


async def test_rp_id_token_aud_missing(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(drop=("aud",)))
    assert_token_invalid(await refused_id_token(plain, token), "audience mismatch")


async def test_rp_id_token_aud_several_without_azp(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(aud=[CLIENT_ID, "another-client"]))
    assert_token_invalid(await refused_id_token(plain, token), "azp mismatch")


async def test_rp_id_token_aud_several_with_azp(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(aud=[CLIENT_ID, "another-client"], azp=CLIENT_ID))
    claims, _ = await plain.verify_id_token(token, NONCE, KEYRING)
    assert claims["azp"] == CLIENT_ID


async def test_rp_id_token_iat_missing(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(drop=("iat",)))
    assert_token_invalid(await refused_id_token(plain, token), "no iat")


async def test_rp_id_token_iat_in_the_future(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(iat=int(NOW) + 3600, exp=int(NOW) + 3900))
    assert_token_invalid(await refused_id_token(plain, token), "iat in the future")


async def test_rp_id_token_iat_within_clock_skew(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(iat=int(NOW) + 60))
    claims, _ = await plain.verify_id_token(token, NONCE, KEYRING)
    assert claims["iat"] == int(NOW) + 60


async def test_rp_id_token_iat_too_old(plain: OIDCProvider, clock: Clock) -> None:
    token = sign(id_token_claims(exp=int(NOW) + 86_400))
    clock.now = NOW + 600 + 120 + 1  # max_token_age_seconds + clock_skew_seconds + 1
    assert_token_invalid(await refused_id_token(plain, token), "iat too old")


async def test_rp_id_token_iat_not_a_number(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(iat="yesterday"))
    assert_token_invalid(await refused_id_token(plain, token), "no iat")


async def test_rp_id_token_exp_expired(plain: OIDCProvider, clock: Clock) -> None:
    token = sign(id_token_claims(exp=int(NOW) + 60))
    clock.now = NOW + 60 + 120 + 1  # past exp beyond the skew, iat still young enough
    assert_token_invalid(await refused_id_token(plain, token), "expired")


async def test_rp_id_token_exp_missing(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(drop=("exp",)))
    assert_token_invalid(await refused_id_token(plain, token), "no exp")


async def test_rp_id_token_sub(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(drop=("sub",)))
    assert_token_invalid(await refused_id_token(plain, token), "no sub")


async def test_rp_id_token_sub_empty(plain: OIDCProvider) -> None:
    token = sign(id_token_claims(sub=""))
    assert_token_invalid(await refused_id_token(plain, token), "no sub")


# -- which key verifies -------------------------------------------------------------------------


async def test_rp_id_token_kid_absent_single_jwks(plain: OIDCProvider, op: FakeOP) -> None:
    # The JWKS holds one signing key (and an encryption key, which does not count).
    token = sign(id_token_claims(), header={"alg": "RS256"})
    claims, _ = await plain.verify_id_token(token, NONCE, KEYRING)
    assert claims["sub"] == SUBJECT


async def test_rp_id_token_kid_absent_multiple_jwks(plain: OIDCProvider, op: FakeOP) -> None:
    op.signing_keys = [OP_SIGNING, OP_SIGNING_ROTATED]
    token = sign(id_token_claims(), header={"alg": "RS256"})
    refusal = await refused_id_token(plain, token)
    assert_token_invalid(refusal, "no kid and several provider keys")


async def test_rp_id_token_kid_of_encryption_key(plain: OIDCProvider) -> None:
    # A key published for encryption never verifies a signature, even if it made one.
    unrestricted = OP_ENCRYPTION.as_dict(private=True)
    del unrestricted["use"]
    token = sign(id_token_claims(), RSAKey.import_key(unrestricted))
    assert_token_invalid(await refused_id_token(plain, token), "unknown kid")


async def test_rp_key_rotation_op_sign_key(plain: OIDCProvider, op: FakeOP, clock: Clock) -> None:
    await plain.verify_id_token(sign(id_token_claims()), NONCE, KEYRING)
    assert op.jwks_route.call_count == 1

    op.signing_keys = [OP_SIGNING_ROTATED]  # the provider rotates its signing key
    clock.now = NOW + 30  # past the refetch interval, well within the JWKS cache time
    token = sign(id_token_claims(iat=int(clock.now), exp=int(clock.now) + 300), OP_SIGNING_ROTATED)

    claims, _ = await plain.verify_id_token(token, NONCE, KEYRING)

    assert claims["sub"] == SUBJECT
    assert op.jwks_route.call_count == 2
    # The refetched JWKS is cached: the next token with the new kid needs no fetch.
    await plain.verify_id_token(token, NONCE, KEYRING)
    assert op.jwks_route.call_count == 2


async def test_rp_key_rotation_unknown_kid_after_refetch(
    plain: OIDCProvider, op: FakeOP, clock: Clock
) -> None:
    await plain.verify_id_token(sign(id_token_claims()), NONCE, KEYRING)
    clock.now = NOW + 30
    stranger = sign(
        id_token_claims(iat=int(clock.now)), ATTACKER, header={"alg": "RS256", "kid": "op-sig-9"}
    )

    assert_token_invalid(await refused_id_token(plain, stranger), "unknown kid")
    assert op.jwks_route.call_count == 2

    # A flood of unknown kids does not turn into a flood of JWKS fetches.
    assert_token_invalid(await refused_id_token(plain, stranger), "unknown kid")
    assert op.jwks_route.call_count == 2


# -- rp-id_token-sig+enc --------------------------------------------------------------------------


async def test_rp_id_token_sig_enc(itsme: OIDCProvider) -> None:
    token = encrypt(sign(id_token_claims()))
    claims, signed = await itsme.verify_id_token(token, NONCE, KEYRING)
    assert claims["sub"] == SUBJECT
    assert signed.count(".") == 2


async def test_rp_id_token_sig_enc_second_decryption_key(itsme: OIDCProvider) -> None:
    # During an encryption key rollover the RP holds two keys; the kid picks the right one.
    keyring = Keyring(
        signing=RP_SIGNING,
        encryption=RP_ENCRYPTION,
        decryption=KeySet([RP_ENCRYPTION, RP_ENCRYPTION_NEXT]),
    )
    token = encrypt(sign(id_token_claims()), RP_ENCRYPTION_NEXT)
    claims, _ = await itsme.verify_id_token(token, NONCE, keyring)
    assert claims["sub"] == SUBJECT


async def test_rp_id_token_sig_enc_without_kid_during_key_rollover(itsme: OIDCProvider) -> None:
    # No kid in the JWE header and two keys of ours: each is tried.
    keyring = Keyring(
        signing=RP_SIGNING,
        encryption=RP_ENCRYPTION,
        decryption=KeySet([RP_ENCRYPTION, RP_ENCRYPTION_NEXT]),
    )
    header = {k: v for k, v in ENCRYPTION_HEADER.items()}
    token = jwe.encrypt_compact(
        header, sign(id_token_claims()), RP_ENCRYPTION_NEXT, registry=JWE_REGISTRY
    )
    claims, _ = await itsme.verify_id_token(token, NONCE, keyring)
    assert claims["sub"] == SUBJECT


async def test_rp_id_token_enc_payload_not_text(itsme: OIDCProvider) -> None:
    # Anyone can encrypt to our public key; bytes that are not text are a refusal, not a 500.
    header = {**ENCRYPTION_HEADER, "kid": RP_ENCRYPTION.kid}
    token = jwe.encrypt_compact(header, b"\xff\xfe\xfd", RP_ENCRYPTION, registry=JWE_REGISTRY)
    assert_token_invalid(await refused_id_token(itsme, token), "cannot decrypt")


async def test_rp_id_token_enc_header_garbage(itsme: OIDCProvider) -> None:
    assert_token_invalid(
        await refused_id_token(itsme, "%%%.a.b.c.d"), "malformed encryption header"
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**20, True])
async def test_rp_id_token_exp_not_a_usable_time(plain: OIDCProvider, value: Any) -> None:
    refusal = await refused_id_token(plain, sign(id_token_claims(exp=value)))
    assert_token_invalid(refusal, "bad exp")


@pytest.mark.parametrize("value", [float("nan"), 10**20])
async def test_rp_backchannel_rpinitlogout_lt_iat_not_a_usable_time(
    plain: OIDCProvider, value: Any
) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(iat=value)))
    assert_token_invalid(refusal, "no iat")


async def test_rp_backchannel_rpinitlogout_lt_far_exp_is_remembered_a_day(
    plain: OIDCProvider,
) -> None:
    token = await plain.verify_logout_token(sign(logout_claims(exp=int(NOW) + 10**8)), KEYRING)
    assert token.expires_at <= NOW + 86400


async def test_rp_id_token_enc_without_sig(itsme: OIDCProvider) -> None:
    # Anyone can encrypt to the RP's public key: encrypted but unsigned claims are refused.
    header = {**ENCRYPTION_HEADER, "kid": RP_ENCRYPTION.kid}
    del header["cty"]
    token = jwe.encrypt_compact(
        header, json.dumps(id_token_claims()), RP_ENCRYPTION, registry=JWE_REGISTRY
    )
    assert_token_invalid(await refused_id_token(itsme, token), "malformed")


async def test_rp_id_token_sig_enc_unencrypted_refused(itsme: OIDCProvider) -> None:
    assert_token_invalid(await refused_id_token(itsme, sign(id_token_claims())), "not encrypted")


async def test_rp_id_token_sig_enc_wrong_key(itsme: OIDCProvider) -> None:
    token = encrypt(sign(id_token_claims()), NOT_THE_RP)
    assert_token_invalid(await refused_id_token(itsme, token), "cannot decrypt")


async def test_rp_id_token_sig_enc_inner_bad_sig(itsme: OIDCProvider) -> None:
    # Encryption proves nothing about the sender: the inner signature is still checked.
    token = encrypt(sign(id_token_claims(), ATTACKER))
    assert_token_invalid(await refused_id_token(itsme, token), "bad signature")


async def test_rp_id_token_sig_enc_inner_alg_none(itsme: OIDCProvider) -> None:
    token = encrypt(unsigned(id_token_claims()))
    assert_token_invalid(await refused_id_token(itsme, token), "alg none not allowed")


async def test_rp_id_token_sig_enc_in_complete(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims()), userinfo=encrypt(sign(userinfo_claims())))
    assert_token_invalid(await refused_login(itsme), "not encrypted")
    assert op.userinfo_route.call_count == 0


# -- userinfo ------------------------------------------------------------------------------------


async def test_rp_userinfo_bad_sub_claim(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims()), userinfo={"sub": "another-person", "email": "x@y.be"})
    assert_token_invalid(await refused_login(plain), "userinfo sub mismatch")


async def test_rp_userinfo_bad_sub_claim_encrypted(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(
        encrypt(sign(id_token_claims())),
        userinfo=encrypt(sign(userinfo_claims(sub="another-person"))),
    )
    assert_token_invalid(await refused_login(itsme), "userinfo sub mismatch")


async def test_rp_userinfo_missing_sub_claim(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims()), userinfo={"email": "x@y.be"})
    assert_token_invalid(await refused_login(plain), "userinfo sub mismatch")


async def test_rp_userinfo_sig_enc(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(encrypt(sign(id_token_claims())), userinfo=encrypt(sign(userinfo_claims())))
    identity = await itsme.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)
    assert identity.nrn == NRN
    assert identity.given_name == "Marie"


async def test_rp_userinfo_sig_enc_plain_json_refused(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(encrypt(sign(id_token_claims())), userinfo=userinfo_claims())
    assert_token_invalid(await refused_login(itsme), "userinfo not encrypted")


async def test_rp_userinfo_sig_enc_signed_only_refused(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(encrypt(sign(id_token_claims())), userinfo=sign(userinfo_claims()))
    assert_token_invalid(await refused_login(itsme), "not encrypted")


async def test_rp_userinfo_sig_enc_bad_sig(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(encrypt(sign(id_token_claims())), userinfo=encrypt(sign(userinfo_claims(), ATTACKER)))
    assert_token_invalid(await refused_login(itsme), "bad signature")


async def test_rp_userinfo_sig_enc_wrong_issuer(itsme: OIDCProvider, op: FakeOP) -> None:
    op.answer(
        encrypt(sign(id_token_claims())),
        userinfo=encrypt(sign(userinfo_claims(iss="https://evil.test", aud=CLIENT_ID))),
    )
    assert_token_invalid(await refused_login(itsme), "issuer mismatch")


async def test_rp_userinfo_error_status(plain: OIDCProvider, op: FakeOP) -> None:
    op.answer(sign(id_token_claims()))
    op.userinfo_route.side_effect = None
    op.userinfo_route.return_value = httpx.Response(401, json={"error": "invalid_token"})
    refusal = await refused_login(plain)
    assert refusal.type == "login-provider-error"
    assert refusal.detail["check"] == "userinfo 401"


# -- back-channel logout (OpenID Connect Back-Channel Logout §2.6) --------------------------------


async def test_rp_backchannel_rpinitlogout_lt_valid(plain: OIDCProvider) -> None:
    result = await plain.verify_logout_token(sign(logout_claims()), KEYRING)
    assert isinstance(result, LogoutToken)
    assert result.sid == SID
    assert result.subject == SUBJECT
    assert result.jti == "logout-jti-1"
    # Kept at least as long as a replay could still pass the iat check.
    assert result.expires_at >= NOW + plain.config.max_token_age_seconds


async def test_rp_backchannel_rpinitlogout_lt_replay_window(
    plain: OIDCProvider, clock: Clock
) -> None:
    # The jti must be remembered for as long as the same token would still be accepted,
    # or a replay slips through once the platform has forgotten it. This token's exp lies
    # between the end of the iat window and that end minus the clock skew.
    max_age, skew = plain.config.max_token_age_seconds, plain.config.clock_skew_seconds
    token = sign(logout_claims(exp=int(NOW) + max_age + skew // 2))
    result = await plain.verify_logout_token(token, KEYRING)

    clock.now = result.expires_at + 1
    refusal = await refused_logout(plain, token)
    assert refusal.type == "login-token-invalid"
    assert refusal.detail["check"] in {"iat too old", "expired"}


async def test_rp_backchannel_rpinitlogout_lt_sid_only(itsme: OIDCProvider) -> None:
    result = await itsme.verify_logout_token(sign(logout_claims(drop=("sub",))), KEYRING)
    assert (result.subject, result.sid) == (None, SID)


async def test_rp_backchannel_rpinitlogout_lt_sub_only(plain: OIDCProvider) -> None:
    result = await plain.verify_logout_token(sign(logout_claims(drop=("sid",))), KEYRING)
    assert (result.subject, result.sid) == (SUBJECT, None)


async def test_rp_backchannel_rpinitlogout_lt_wrong_alg(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, unsigned(logout_claims()))
    assert_token_invalid(refusal, "alg none not allowed")


async def test_rp_backchannel_rpinitlogout_lt_hs256(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, hs256_with_public_key(logout_claims()))
    assert_token_invalid(refusal, "alg HS256 not allowed")


async def test_rp_backchannel_rpinitlogout_lt_bad_sig(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(), ATTACKER))
    assert_token_invalid(refusal, "bad signature")


async def test_rp_backchannel_rpinitlogout_lt_wrong_issuer(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(iss="https://evil.test")))
    assert_token_invalid(refusal, "issuer mismatch")


async def test_rp_backchannel_rpinitlogout_lt_wrong_aud(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(aud="some-other-client")))
    assert_token_invalid(refusal, "audience mismatch")


async def test_rp_backchannel_rpinitlogout_lt_no_iat(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(drop=("iat",))))
    assert_token_invalid(refusal, "no iat")


async def test_rp_backchannel_rpinitlogout_lt_stale_iat(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(iat=int(NOW) - 3600)))
    assert_token_invalid(refusal, "iat too old")


async def test_rp_backchannel_rpinitlogout_lt_future_iat(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(iat=int(NOW) + 3600)))
    assert_token_invalid(refusal, "iat in the future")


async def test_rp_backchannel_rpinitlogout_lt_expired(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(exp=int(NOW) - 600)))
    assert_token_invalid(refusal, "expired")


async def test_rp_backchannel_rpinitlogout_lt_no_jti(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(drop=("jti",))))
    assert_token_invalid(refusal, "no jti")


async def test_rp_backchannel_rpinitlogout_lt_no_event(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(drop=("events",))))
    assert_token_invalid(refusal, "no back-channel logout event")


async def test_rp_backchannel_rpinitlogout_lt_wrong_event(plain: OIDCProvider) -> None:
    token = sign(logout_claims(events={"http://schemas.openid.net/event/other": {}}))
    refusal = await refused_logout(plain, token)
    assert_token_invalid(refusal, "no back-channel logout event")


async def test_rp_backchannel_rpinitlogout_lt_event_not_object(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(events={BACKCHANNEL_EVENT: "yes"})))
    assert_token_invalid(refusal, "no back-channel logout event")


async def test_rp_backchannel_rpinitlogout_lt_id_token_as_logout_token(
    plain: OIDCProvider,
) -> None:
    # A perfectly valid ID token is not a logout token.
    refusal = await refused_logout(plain, sign(id_token_claims(drop=("nonce",))))
    assert_token_invalid(refusal, "no back-channel logout event")


async def test_rp_backchannel_rpinitlogout_lt_with_nonce(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(nonce=NONCE)))
    assert_token_invalid(refusal, "nonce in logout token")


async def test_rp_backchannel_rpinitlogout_lt_no_sid_no_sub(plain: OIDCProvider) -> None:
    refusal = await refused_logout(plain, sign(logout_claims(drop=("sub", "sid"))))
    assert_token_invalid(refusal, "neither sub nor sid")


ENC_ALGS = JWE_ALGORITHMS


# -- RP-initiated logout ------------------------------------------------------------------------


async def test_rp_init_logout_end_session_url(itsme: OIDCProvider) -> None:
    url = await itsme.end_session_url("the.id.token", "https://kluis.test/")
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == END_SESSION_ENDPOINT
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    hint = query.pop("id_token_hint")
    assert query == {"client_id": CLIENT_ID, "post_logout_redirect_uri": "https://kluis.test/"}
    # The ID token may carry the NRN: it travels only encrypted to the provider.
    assert "the.id.token" not in url
    opened = jwe.decrypt_compact(hint, OP_ENCRYPTION, registry=jwe.JWERegistry(algorithms=ENC_ALGS))
    assert opened.plaintext == b"the.id.token"


async def test_rp_init_logout_without_provider_enc_key_sends_no_hint(
    itsme: OIDCProvider, op: FakeOP
) -> None:
    op.encryption_keys = []
    url = await itsme.end_session_url("the.id.token", "https://kluis.test/")
    assert url is not None
    assert "id_token_hint" not in url
    assert "the.id.token" not in url


async def test_rp_init_logout_provider_unreachable(itsme: OIDCProvider, op: FakeOP) -> None:
    op.discovery_route.side_effect = httpx.ConnectError("connection refused")
    assert await itsme.end_session_url("the.id.token", "https://kluis.test/") is None


def test_itsme_profile_is_the_shipped_one() -> None:
    # Guards the fixture: the tests above exercise the real itsme profile.
    settings = itsme_settings()
    assert settings.client_auth == "private_key_jwt"
    assert settings.request_object == "signed+encrypted"
    assert settings.id_token_encrypted and settings.userinfo_encrypted
    assert settings.nrn_claim == NRN_CLAIM
    assert settings.loa[ACR_ADVANCED] == "high"
