"""A generic OpenID Connect relying party, configured entirely by `ProviderSettings`.

authlib does the OAuth 2 parts (PKCE, the token request with `private_key_jwt` or
`client_secret_basic`); joserfc does every JOSE operation. What is written here is the
policy authlib leaves to the caller: which algorithms are acceptable, which key may verify a
token, and the claim checks of OpenID Connect Core §3.1.3.7 and Back-Channel Logout §2.6.
Every refusal raises `LoginRefused` with a detail naming the failed check.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError

from idp_bridge.domain import LoginRefused
from idp_bridge.interfaces import Keyring, LoginRequest, LogoutToken, VerifiedIdentity
from idp_bridge.oidc.documents import BoundedTransport, ProviderDocuments
from idp_bridge.oidc.jose import BACKCHANNEL_EVENT, decrypt, encrypt_to, is_jwe, is_time, refused
from kluis.settings import ProviderSettings


class OIDCProvider:
    def __init__(
        self,
        name: str,
        config: ProviderSettings,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.label = config.label
        self.min_loa = config.min_loa
        self.posts_back = False
        self.state_parameter = "state"
        self._clock = clock
        self._transport = transport
        self.documents = ProviderDocuments(config.discovery_url, clock=clock, transport=transport)

    # -- tokens -------------------------------------------------------------------------

    async def _verified_claims(
        self, token: str, keys: Keyring, *, must_be_encrypted: bool
    ) -> tuple[dict[str, Any], str]:
        """Decrypt (if JWE) and verify a provider JWT. Returns its claims and the JWS."""
        if is_jwe(token):
            token = decrypt(token, keys)
        elif must_be_encrypted:
            raise refused("not encrypted")
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError) as exc:
            raise refused("malformed") from exc
        if header.get("alg") not in self.config.signing_algorithms:
            raise refused(f"alg {header.get('alg')!s:.20} not allowed")
        key = await self.documents.verification_key(header)
        try:
            verified = jws.deserialize_compact(
                token, key, registry=jws.JWSRegistry(algorithms=self.config.signing_algorithms)
            )
        except (JoseError, ValueError) as exc:
            raise refused("bad signature") from exc
        try:
            claims = json.loads(verified.payload)
        except ValueError as exc:
            raise refused("claims not json") from exc
        if not isinstance(claims, dict):
            raise refused("claims not an object")
        return claims, token

    def _check_times(self, claims: Mapping[str, Any], *, need_exp: bool) -> None:
        now, skew = self._clock(), self.config.clock_skew_seconds
        iat = claims.get("iat")
        if not is_time(iat):
            raise refused("no iat")
        if iat > now + skew:
            raise refused("iat in the future")
        if iat < now - self.config.max_token_age_seconds - skew:
            raise refused("iat too old")
        exp = claims.get("exp")
        if exp is not None and not is_time(exp):
            raise refused("bad exp")
        if need_exp and exp is None:
            raise refused("no exp")
        if exp is not None and exp < now - skew:
            raise refused("expired")

    async def _check_issuer_audience(self, claims: Mapping[str, Any]) -> None:
        if claims.get("iss") != (await self.documents.metadata())["issuer"]:
            raise refused("issuer mismatch")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.config.client_id not in audiences:
            raise refused("audience mismatch")
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise refused("azp mismatch")

    async def verify_id_token(
        self, token: str, nonce: str, keys: Keyring
    ) -> tuple[dict[str, Any], str]:
        claims, signed = await self._verified_claims(
            token, keys, must_be_encrypted=self.config.id_token_encrypted
        )
        await self._check_issuer_audience(claims)
        self._check_times(claims, need_exp=True)
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise refused("no sub")
        if not nonce or claims.get("nonce") != nonce:
            raise refused("nonce mismatch")
        return claims, signed

    async def userinfo(self, access_token: str, subject: str, keys: Keyring) -> dict[str, Any]:
        endpoint = (await self.documents.metadata()).get("userinfo_endpoint")
        if not endpoint:
            return {}
        try:
            async with self.documents.http() as http:
                response = await http.get(
                    endpoint, headers={"authorization": f"Bearer {access_token}"}
                )
        except httpx.HTTPError as exc:
            raise LoginRefused("login-provider-unavailable", check="userinfo") from exc
        if response.status_code != 200:
            raise LoginRefused("login-provider-error", check=f"userinfo {response.status_code}")
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type == "application/jwt":
            claims, _ = await self._verified_claims(
                response.text.strip(), keys, must_be_encrypted=self.config.userinfo_encrypted
            )
            if "iss" in claims or "aud" in claims:
                await self._check_issuer_audience(claims)
        elif self.config.userinfo_encrypted:
            raise refused("userinfo not encrypted")
        else:
            try:
                claims = response.json()
            except ValueError as exc:
                raise refused("userinfo not json") from exc
        if not isinstance(claims, dict) or claims.get("sub") != subject:
            raise refused("userinfo sub mismatch")
        return claims

    # -- the flow -----------------------------------------------------------------------

    async def start(self, login: LoginRequest, keys: Keyring) -> str:
        meta = await self.documents.metadata()
        params: dict[str, Any] = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": login.redirect_uri,
            "scope": " ".join(self.config.scopes),
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": create_s256_code_challenge(login.code_verifier),
            "code_challenge_method": "S256",
        }
        if self.config.acr_values:
            params["acr_values"] = " ".join(self.config.acr_values)
        if self.config.claims_request:
            params["claims"] = json.dumps(self.config.claims_request, separators=(",", ":"))
        if login.login_hint and self._may_send_hint(login.login_hint):
            params["login_hint"] = login.login_hint
        if self.config.request_object != "none":
            request = await self._request_object(params, meta["issuer"], keys)
            params = {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": login.redirect_uri,
                "scope": params["scope"],
                "request": request,
            }
        return f"{meta['authorization_endpoint']}?{urlencode(params)}"

    def _may_send_hint(self, hint: str) -> bool:
        # A hint that looks like an NRN would otherwise travel in clear in a URL. Only an
        # encrypted request object or the development provider may carry one.
        looks_like_nrn = hint.isdigit() and len(hint) == 11
        return (
            not looks_like_nrn
            or self.config.request_object == "signed+encrypted"
            or self.config.development
        )

    async def _request_object(self, params: dict[str, Any], issuer: str, keys: Keyring) -> str:
        now = int(self._clock())
        claims = {
            **params,
            "iss": self.config.client_id,
            "aud": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
        }
        if "claims" in claims:
            claims["claims"] = self.config.claims_request
        signed = jwt.encode({"alg": "RS256", "kid": keys.signing.kid}, claims, keys.signing)
        if self.config.request_object == "signed":
            return signed
        target = await self.documents.encryption_key()
        if target is None:
            raise LoginRefused("login-provider-unavailable", check="no provider enc key")
        return encrypt_to(target, signed)

    async def _exchange(self, code: str, login: LoginRequest, keys: Keyring) -> dict[str, Any]:
        token_endpoint = (await self.documents.metadata())["token_endpoint"]
        private_key_jwt = self.config.client_auth == "private_key_jwt"
        client = AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=keys.signing if private_key_jwt else self.config.client_secret,
            token_endpoint_auth_method=self.config.client_auth,
            redirect_uri=login.redirect_uri,
            timeout=10.0,
            transport=BoundedTransport(self._transport),
        )
        if private_key_jwt:
            client.register_client_auth_method(
                PrivateKeyJWT(token_endpoint, headers={"kid": keys.signing.kid}, alg="RS256")
            )
        try:
            async with client:
                token = await client.fetch_token(
                    token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=login.code_verifier,
                )
        except OAuthError as exc:
            raise LoginRefused("login-provider-error", error=str(exc.error)[:60]) from exc
        except httpx.HTTPError as exc:
            raise LoginRefused("login-provider-unavailable", check="token endpoint") from exc
        except ValueError as exc:  # authlib: the response is not a JSON object
            raise LoginRefused("login-provider-error", error="invalid token response") from exc
        return dict(token)

    async def complete(
        self, params: Mapping[str, str], login: LoginRequest, keys: Keyring
    ) -> VerifiedIdentity:
        if params.get("error"):
            raise LoginRefused("login-provider-error", error=str(params["error"])[:60])
        code = params.get("code")
        if not code:
            raise LoginRefused("login-provider-error", error="no code")
        token = await self._exchange(code, login, keys)
        raw_id_token = token.get("id_token")
        if not isinstance(raw_id_token, str):
            raise refused("no id_token")
        claims, signed_id_token = await self.verify_id_token(raw_id_token, login.nonce, keys)
        info: dict[str, Any] = {}
        if self.config.use_userinfo and token.get("access_token"):
            info = await self.userinfo(str(token["access_token"]), claims["sub"], keys)

        def claim(name: str | None) -> Any:
            if not name:
                return None
            value = claims.get(name)
            return value if value not in (None, "") else info.get(name)

        acr = claims.get("acr")
        return VerifiedIdentity(
            provider=self.name,
            subject=claims["sub"],
            nrn=claim(self.config.nrn_claim),
            given_name=str(claim(self.config.given_name_claim) or ""),
            surname=str(claim(self.config.surname_claim) or ""),
            email=claim(self.config.email_claim),
            language=claim(self.config.language_claim),
            loa=self.config.loa.get(acr, "low") if isinstance(acr, str) else "low",
            birth_date=_parse_date(claim(self.config.birth_date_claim)),
            sid=claims.get("sid") if isinstance(claims.get("sid"), str) else None,
            id_token=signed_id_token,
        )

    # -- logout -------------------------------------------------------------------------

    async def end_session_url(
        self, id_token: str | None, post_logout_uri: str, keys: Keyring | None = None
    ) -> str | None:
        try:
            endpoint = (await self.documents.metadata()).get("end_session_endpoint")
            target = await self.documents.encryption_key() if endpoint and id_token else None
        except LoginRefused:
            return None
        if not endpoint:
            return None
        params = {"client_id": self.config.client_id, "post_logout_redirect_uri": post_logout_uri}
        # The ID token may carry the NRN (the federal service puts it there), so it goes into
        # the URL only encrypted to the provider (RP-Initiated Logout 1.0 §2); a provider
        # without an encryption key gets the client id alone.
        if id_token and target is not None:
            params["id_token_hint"] = encrypt_to(target, id_token)
        return f"{endpoint}?{urlencode(params)}"

    async def verify_logout_token(self, token: str, keys: Keyring) -> LogoutToken:
        claims, _ = await self._verified_claims(token, keys, must_be_encrypted=False)
        await self._check_issuer_audience(claims)
        self._check_times(claims, need_exp=False)
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise refused("no back-channel logout event")
        if "nonce" in claims:
            raise refused("nonce in logout token")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not isinstance(sub, str) and not isinstance(sid, str):
            raise refused("neither sub nor sid")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise refused("no jti")
        exp = claims.get("exp")
        # Remember the jti no longer than a day, however far away the token's exp is.
        now = self._clock()
        expires = min(float(exp), now + 86400) if exp is not None else now + 3600
        return LogoutToken(
            subject=sub if isinstance(sub, str) else None,
            sid=sid if isinstance(sid, str) else None,
            jti=jti,
            # Remembered while the iat check would still accept the same token.
            expires_at=max(
                expires,
                float(claims["iat"])
                + self.config.max_token_age_seconds
                + self.config.clock_skew_seconds,
            ),
        )


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
