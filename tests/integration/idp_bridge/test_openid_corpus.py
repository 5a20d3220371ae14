"""Replays the corpus of hostile OpenID provider answers (tests/corpus/openid/corpus.toml).

A provider on loopback serves each answer over real HTTP; the relying party talks to it as
to `https://op.test`, its clock stopped at the instant the samples were made for.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc.jwk import KeySet, RSAKey

from idp_bridge.domain import LoginRefused
from idp_bridge.interfaces import Keyring
from idp_bridge.oidc import OIDCProvider
from tests.support.openid import (
    CODE,
    DISCOVERY_URL,
    ISSUER,
    JWKS_URI,
    LOGIN,
    NOW,
    STATE,
    TOKEN_ENDPOINT,
    USERINFO_ENDPOINT,
    itsme_settings,
    plain_settings,
)

CORPUS = Path(__file__).parents[2] / "corpus" / "openid"
ANSWERS = tomllib.loads((CORPUS / "corpus.toml").read_text())["answer"]
KEYS = {
    name: RSAKey.import_key(jwk)
    for name, jwk in json.loads((CORPUS / "keys.json").read_text()).items()
}
KEYRING = Keyring(
    signing=KEYS["rp-signing"],
    encryption=KEYS["rp-encryption"],
    decryption=KeySet([KEYS["rp-encryption"]]),
)
URLS = {
    "discovery": DISCOVERY_URL,
    "jwks": JWKS_URI,
    "token": TOKEN_ENDPOINT,
    "userinfo": USERINFO_ENDPOINT,
}
PATHS = {endpoint: urlsplit(url).path for endpoint, url in URLS.items()}
# What each profile's provider answers when an answer leaves the endpoint out.
DEFAULTS = {
    profile: {"discovery": "discovery.json", "jwks": "jwks.json", **samples}
    for profile, samples in {
        "plain": {"id_token": "plain-id-token.jwt", "userinfo": "plain-userinfo.json"},
        "itsme": {"id_token": "itsme-id-token.jwe", "userinfo": "itsme-userinfo.jwe"},
    }.items()
}
MEDIA_TYPES = {".json": "application/json", ".jwt": "application/jwt", ".jwe": "application/jwt"}


@dataclass
class Reply:
    body: bytes
    headers: dict[str, str]
    chunked: bool


@dataclass
class Provider:
    """What the loopback provider answers, and every request it was sent."""

    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


def reply(answer: dict[str, Any], endpoint: str) -> Reply:
    name = answer.get(endpoint) or DEFAULTS[answer["profile"]][endpoint]
    data = (CORPUS / "samples" / name).read_bytes()
    headers = {k.lower(): v for k, v in answer.get("headers", {}).get(endpoint, {}).items()}
    if name.endswith(".gz"):
        data = data if "content-encoding" in headers else gzip.decompress(data)
        name = name.removesuffix(".gz")
    media_type = MEDIA_TYPES.get(Path(name).suffix, "text/html")
    return Reply(
        data, {"content-type": media_type, **headers}, endpoint in answer.get("chunked", [])
    )


def replies(answer: dict[str, Any]) -> dict[str, Reply]:
    served = {endpoint: reply(answer, endpoint) for endpoint in ("discovery", "jwks", "userinfo")}
    if "token" in answer:
        served["token"] = reply(answer, "token")
    else:
        id_token = reply(answer, "id_token")
        body = {"access_token": "at", "token_type": "Bearer", "id_token": id_token.body.decode()}
        served["token"] = Reply(
            json.dumps(body).encode(), {"content-type": "application/json"}, False
        )
    return served


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer  # with a `provider` attribute

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        provider: Provider = self.server.provider  # type: ignore[attr-defined]
        provider.requests.append(f"{self.command} {self.headers['host']}{self.path}")
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        endpoint = next((e for e, path in PATHS.items() if path == self.path), None)
        served = provider.replies.get(endpoint or "")
        if served is None:
            self.send_error(404)
            return
        self.send_response(200)
        for name, value in served.headers.items():
            self.send_header(name, value)
        if served.chunked:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            # The platform hangs up on an answer past its size limit, which is what the
            # tests of such answers check: the broken pipe is expected, not an error.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for start in range(0, len(served.body), 65536):
                    chunk = served.body[start : start + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("content-length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

    do_GET = do_POST = _answer


class ToLoopback(httpx.AsyncBaseTransport):
    """Sends every request, whatever its host, to the loopback provider (over real HTTP),
    keeping the Host header it was addressed to."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[Provider, int]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.provider = Provider()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.provider, server.server_address[1]  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


async def replay(answer: dict[str, Any], port: int) -> None:
    settings = itsme_settings() if answer["profile"] == "itsme" else plain_settings()
    provider = OIDCProvider(
        answer["profile"], settings, clock=lambda: NOW, transport=ToLoopback(port)
    )
    if "logout_token" in answer:
        token = (CORPUS / "samples" / answer["logout_token"]).read_text()
        await provider.verify_logout_token(token, KEYRING)
    else:
        await provider.complete({"code": CODE, "state": STATE}, LOGIN, KEYRING)


@pytest.mark.parametrize("answer", ANSWERS, ids=[a["name"] for a in ANSWERS])
async def test_the_relying_party_answers_as_the_corpus_expects(
    answer: dict[str, Any], loopback: tuple[Provider, int]
) -> None:
    provider, port = loopback
    provider.replies = replies(answer)
    provider.requests.clear()

    if answer["expect"] == "accepted":
        await replay(answer, port)
    else:
        with pytest.raises(LoginRefused) as refused:
            await replay(answer, port)
        assert (refused.value.type, refused.value.detail) == (
            answer["expect"],
            {**refused.value.detail, **answer["detail"]},
        ), answer["why"]

    # Only the provider's own endpoints are ever fetched: no jku, no x5u.
    host = urlsplit(ISSUER).netloc
    allowed = {f"{method} {host}{path}" for path in PATHS.values() for method in ("GET", "POST")}
    assert set(provider.requests) <= allowed, answer["why"]


def test_every_sample_is_in_the_corpus() -> None:
    named = {name for samples in DEFAULTS.values() for name in samples.values()}
    for answer in ANSWERS:
        named |= {answer[k] for k in (*PATHS, "id_token", "logout_token") if k in answer}
    assert named == {path.name for path in (CORPUS / "samples").iterdir()}


def test_every_answer_says_why_and_what_to_expect() -> None:
    names = [answer["name"] for answer in ANSWERS]
    assert len(names) == len(set(names))
    for answer in ANSWERS:
        assert answer["why"] and answer["profile"] in {"plain", "itsme"}
        assert answer["expect"] == "accepted" or answer["detail"], answer["name"]
