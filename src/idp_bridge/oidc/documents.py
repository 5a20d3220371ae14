"""A provider's published documents: discovery metadata and JWKS, fetched and cached."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from idp_bridge.domain import LoginRefused
from idp_bridge.oidc.jose import JWE_ALGORITHMS, refused

METADATA_TTL = 3600.0
# The largest answer read from a provider. Its documents, tokens and userinfo are a few
# kilobytes; anything far larger is a fault or an attack, refused before it is parsed.
MAX_ANSWER_BYTES = 1 << 20
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
# A JWKS is refetched on an unknown `kid` at most this often, so a flood of forged tokens
# cannot turn the platform into a load generator against the provider.
JWKS_REFETCH_INTERVAL = 10.0


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once: loading the CA bundle costs ~50 ms, which
    every new client would otherwise pay on each call to a provider."""
    return httpx.create_ssl_context()


class _Bounded(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = 0
        async for chunk in self._stream:
            read += len(chunk)
            if read > self._limit:
                raise LoginRefused("login-provider-error", check="answer too large")
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class BoundedTransport(httpx.AsyncBaseTransport):
    """Reads at most `limit` bytes (MAX_ANSWER_BYTES unless told) of any answer from a
    provider.

    httpx has no limit of its own on a response body, and it would inflate a compressed one
    whatever its size. So providers are asked for uncompressed answers, a compressed answer
    is refused, and the bytes read from the socket are counted: a bound on them is then a
    bound on what is parsed.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport | None, limit: int = MAX_ANSWER_BYTES
    ) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport(verify=tls_context())
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["accept-encoding"] = "identity"
        response = await self._inner.handle_async_request(request)
        length = response.headers.get("content-length", "")
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            check = "compressed answer"
        elif length.isdigit() and int(length) > self._limit:
            check = "answer too large"
        else:
            response.stream = _Bounded(cast(httpx.AsyncByteStream, response.stream), self._limit)
            return response
        await response.aclose()
        raise LoginRefused("login-provider-error", check=check)

    async def aclose(self) -> None:
        await self._inner.aclose()


class ProviderDocuments:
    def __init__(
        self,
        discovery_url: str,
        *,
        clock: Callable[[], float],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.discovery_url = discovery_url
        self._clock = clock
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: KeySet | None = None
        self._jwks_at = 0.0

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=10.0, transport=BoundedTransport(self._transport))

    async def get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self.http() as http:
                response = await http.get(url, headers={"accept": "application/json"})
        except httpx.HTTPError as exc:
            raise LoginRefused("login-provider-unavailable", url=url) from exc
        if response.status_code != 200:
            raise LoginRefused("login-provider-unavailable", status=str(response.status_code))
        try:
            data = response.json()
        except ValueError as exc:
            raise LoginRefused("login-provider-unavailable", check="not json") from exc
        if not isinstance(data, dict):
            raise LoginRefused("login-provider-unavailable", check="not a json object")
        return data

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or self._clock() - self._metadata_at > METADATA_TTL:
            data = await self.get_json(self.discovery_url)
            for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(data.get(field), str):
                    raise LoginRefused("login-provider-unavailable", check=f"no {field}")
            # OpenID Connect Discovery §4.3: the document speaks for the issuer it was
            # fetched from, or tokens from another issuer could pass as this provider's.
            if data["issuer"].rstrip("/") + DISCOVERY_SUFFIX != self.discovery_url:
                raise LoginRefused("login-provider-unavailable", check="issuer not discovered")
            self._metadata, self._metadata_at = data, self._clock()
        return self._metadata

    async def keys(self, *, refresh: bool = False) -> KeySet:
        stale = self._clock() - self._jwks_at > METADATA_TTL
        may_refresh = self._clock() - self._jwks_at > JWKS_REFETCH_INTERVAL
        if self._jwks is None or stale or (refresh and may_refresh):
            data = await self.get_json((await self.metadata())["jwks_uri"])
            try:
                self._jwks = KeySet.import_key_set(data)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                raise LoginRefused("login-provider-unavailable", check="bad jwks") from exc
            self._jwks_at = self._clock()
        return self._jwks

    async def verification_key(self, header: dict[str, Any]) -> Any:
        """The provider key that may verify a token with this header.

        A named `kid` must be in the provider's JWKS (refetched once if not: the provider
        may have rotated). Without a `kid`, only a JWKS with a single signing key is
        unambiguous.
        """
        kid = header.get("kid")
        for refresh in (False, True):
            keys = await self.keys(refresh=refresh)
            signing = [k for k in keys.keys if k.get("use") != "enc"]
            if kid is None:
                if len(signing) == 1:
                    return signing[0]
                raise refused("no kid and several provider keys")
            for key in signing:
                if key.kid == kid:
                    return key
        raise refused("unknown kid")

    async def encryption_key(self) -> RSAKey | None:
        """The provider's RSA key for encrypting to it: one marked `use: enc`, or else one
        with no `use` whose `alg`, if any, is an encryption algorithm."""
        keys = [k for k in (await self.keys()).keys if isinstance(k, RSAKey)]
        for key in keys:
            if key.get("use") == "enc":
                return key
        for key in keys:
            if key.get("use") is None and key.get("alg") in (None, *JWE_ALGORITHMS):
                return key
        return None
