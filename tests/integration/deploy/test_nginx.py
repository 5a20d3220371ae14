"""deploy/nginx/kluis.conf, run by Debian's nginx on loopback in front of a live platform
whose public address is the proxy's: TLS 1.2 and 1.3 only, HSTS on every answer, http sent
to https, no public `/metrics`, nginx's request id in the platform's log, and no byte of an
upload or a download in nginx's temporary files.

Each "nothing reached the disk" check has a control: the same config with the one directive
turned the other way, where the same probe must find the spooled file. Without it a probe
that sees nothing would prove nothing (nginx unlinks its temporary files as soon as it
opens them, so a look at the folder alone always finds it empty)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import ssl
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from idp_bridge.oidc.documents import tls_context
from kluis.settings import Settings, load_settings
from tests.conftest import KEPT_BETWEEN_SERVER_TESTS, LiveServer, _clear_locations, _truncate
from tests.support import files
from tests.support.login import JAN, csrf, login
from tests.support.logs import Records, records_of, settled_access_lines
from tests.support.net import free_port
from tests.support.nginx import HOSTNAME, Nginx, running_nginx

ONE_YEAR = 365 * 24 * 3600
MiB = 1024**2
# Random, so neither TLS nor anything else can shrink it; under the test upload cap (6 MiB).
DOCUMENT = files.pdf(os.urandom(4 * MiB + 123))
# A slow client's small receive window, which loopback's large buffers would hide.
SMALL_WINDOW = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)]

REQUEST_BUFFERING_ON = {"proxy_request_buffering off;": "proxy_request_buffering on;"}
RESPONSE_BUFFERING_ON = {
    "proxy_buffering off;": "proxy_buffering on;",
    "proxy_max_temp_file_size 0;": "proxy_max_temp_file_size 1024m;",
}


@pytest.fixture(scope="module")
def upstream_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, upstream_port) -> Iterator[Nginx]:
    with running_nginx(tmp_path_factory.mktemp("nginx"), upstream_port) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def platform_behind(settings: Settings, proxy: Nginx, upstream_port) -> Iterator[LiveServer]:
    """The platform on `upstream_port`, its public address the proxy's https one (secure
    cookies, its own HSTS header, every redirect of a login back through the proxy). Its
    own calls to the development identity provider go through the proxy too, so it trusts
    the proxy's certificate meanwhile."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(proxy.cert))
        tls_context.cache_clear()
        behind = load_settings(  # anew: the providers' addresses follow the public one
            {"KLUIS_ENV": "test"},
            port=upstream_port,
            public_url=proxy.url,
            database_url=settings.database_url,
            key_file=settings.key_file,
            data_dir=settings.data_dir,
            vault=msgspec.to_builtins(settings.vault),
        )
        server = LiveServer(behind)
        server.start()
        yield server
        server.stop()
    tls_context.cache_clear()


@pytest.fixture
async def jan(platform_behind, platform, proxy) -> AsyncIterator[httpx.AsyncClient]:
    """Jan Peeters on an emptied database, logged in through the proxy."""
    await _truncate(platform.engine, keep=KEPT_BETWEEN_SERVER_TESTS)
    empty_locations(platform.settings)
    async with client_of(proxy) as client:
        response = await login(client, login_hint=JAN)
        assert response.status_code == 200, response.text
        assert all(str(r.url).startswith(proxy.url) for r in response.history)
        yield client


def empty_locations(settings: Settings) -> None:
    _clear_locations(settings)
    for location in settings.vault.locations:
        Path(location.path).mkdir(parents=True)  # as a mounted disk would be: ready


def client_of(nginx: Nginx, **transport: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=nginx.url,
        transport=httpx.AsyncHTTPTransport(
            verify=ssl.create_default_context(cafile=str(nginx.cert)), **transport
        ),  # type: ignore[arg-type]
        timeout=30,
    )


# TLS


def handshake(port: int, version: ssl.TLSVersion, cafile: Path) -> str:
    """One handshake at exactly `version`; the version agreed, or ssl.SSLError. Below 1.2,
    OpenSSL 3 tries only at security level 0 (the client must not be what refuses)."""
    context = ssl.create_default_context(cafile=str(cafile))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 and TLSv1_1 themselves
        context.minimum_version = context.maximum_version = version
        if version < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=HOSTNAME) as tls:
            return tls.version() or ""


@pytest.fixture
def permissive_tls_server(proxy) -> Iterator[int]:
    """A TLS server that takes every version from 1.0 to 1.3, with the proxy's certificate:
    the control showing that this client does offer TLS 1.0 and 1.1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(proxy.cert, proxy.key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ALL:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn, context.wrap_socket(conn, server_side=True):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    listener.close()


@pytest.mark.parametrize(
    "version",
    [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
    ids=["TLSv1.2", "TLSv1.3"],
)
def test_tls_12_and_13_are_spoken(proxy, version):
    agreed = handshake(proxy.https_port, version, proxy.cert)
    assert agreed == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_10_and_11_are_refused(proxy, permissive_tls_server, version):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = getattr(ssl.TLSVersion, version)
    # The same client, the same certificate: a server that allows it agrees...
    assert handshake(permissive_tls_server, old, proxy.cert).startswith("TLSv1")
    # ...and the proxy refuses (Debian's nginx.conf would allow it: the site narrows it).
    with pytest.raises(ssl.SSLError) as refused:
        handshake(proxy.https_port, old, proxy.cert)
    assert re.search(r"PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS", str(refused.value))


# Headers, redirects, routes


def assert_hsts(response: httpx.Response) -> None:
    values = response.headers.get_list("strict-transport-security")
    assert len(values) == 1, f"{response.request.url}: {values}"  # one, not the platform's too
    directives = [d.strip().lower() for d in values[0].split(";")]
    max_age = next(int(d.split("=", 1)[1]) for d in directives if d.startswith("max-age="))
    assert max_age >= ONE_YEAR
    assert "includesubdomains" in directives


async def test_every_answer_carries_one_hsts_header(jan, platform_behind):
    answers = [
        await jan.get("/"),  # the platform's redirect to Jan's vault
        await jan.get("/api/v1/me"),  # the API, logged in
        await jan.get("/api/v1/documents/00000000-0000-0000-0000-000000000000"),  # its 404
        await jan.post("/api/v1/documents", content=b"x"),  # refused: no CSRF token
        await jan.get("/metrics"),  # nginx's own 404
        await jan.get("/health/ready"),
    ]
    assert [a.status_code for a in answers] == [302, 200, 404, 403, 404, 200]
    for answer in answers:
        assert_hsts(answer)


async def test_plain_http_is_sent_to_https(proxy):
    async with httpx.AsyncClient(base_url=proxy.http_url) as client:
        answer = await client.get("/vault?tab=documents", headers={"host": HOSTNAME})
    assert answer.status_code == 301
    assert answer.headers["location"] == f"https://{HOSTNAME}/vault?tab=documents"


async def test_metrics_are_not_public_but_health_is(proxy, platform_behind, upstream_port):
    empty_locations(platform_behind.app.state.settings)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{upstream_port}") as direct:
        assert (await direct.get("/metrics")).status_code == 200  # the route is there...
    async with client_of(proxy) as client:
        for spelling in ("/metrics", "/metrics/", "//metrics", "/%6detrics", "/metrics?x=1"):
            # ...but not through nginx, however spelled (the path sent as written)
            url = httpx.URL(proxy.url).copy_with(raw_path=spelling.encode())
            hidden = await client.get(url)
            assert hidden.status_code == 404, spelling
            assert "kluis_" not in hidden.text
        ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text


@pytest.fixture
def access_log() -> Iterator[Records]:
    with records_of("kluis.access", logging.INFO) as handler:
        yield handler


async def test_nginx_request_id_reaches_the_platform(jan, access_log):
    sent = "chosen-by-the-client-0001"
    answer = await jan.get("/api/v1/me", headers={"x-request-id": sent})
    assert answer.status_code == 200
    ids = answer.headers.get_list("x-request-id")
    assert len(ids) == 1 and re.fullmatch(r"[0-9a-f]{32}", ids[0]), ids  # nginx's $request_id

    def mine(record: logging.LogRecord) -> bool:
        return getattr(record, "route", "") == "/api/v1/me"

    lines = await settled_access_lines(access_log, lambda lines: any(map(mine, lines)))
    assert [r.request_id for r in lines if mine(r)] == ids  # what the platform logged it under
    assert sent not in ids  # a client cannot choose the id the platform logs


# Nothing on nginx's disk


async def upload_slowly(
    client: httpx.AsyncClient, data: bytes, look: Callable[[], list[str]]
) -> tuple[httpx.Response, list[str]]:
    """Upload `data` as a document, pausing halfway to `look` at nginx's temporary files."""
    seen: list[str] = []
    half = len(data) // 2

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, half, 256 * 1024):
            yield data[start : min(start + 256 * 1024, half)]
        await asyncio.sleep(1.0)  # nginx has read what was sent, and waits for the rest
        seen.extend(await asyncio.to_thread(look))
        yield data[half:]

    response = await client.post(
        "/api/v1/documents",
        params={"name": "deed.pdf"},
        content=body(),
        headers={**csrf(client), "content-length": str(len(data))},
    )
    return response, seen


async def test_an_upload_streams_through_without_touching_nginx_disk(jan, proxy):
    response, midway = await upload_slowly(jan, DOCUMENT, lambda: proxy.spooled("client_body_temp"))
    assert response.status_code == 201, response.text
    assert midway == []
    assert proxy.spooled("client_body_temp") == []
    assert "buffered to a temporary file" not in proxy.error_log()
    content = await jan.get(f"/api/v1/documents/{response.json()['id']}/content")
    assert content.content == DOCUMENT


async def test_control_request_buffering_on_spools_the_upload(jan, upstream_port, tmp_path):
    with running_nginx(tmp_path, upstream_port, REQUEST_BUFFERING_ON) as buffering:
        async with client_of(buffering) as client:
            client.cookies = jan.cookies
            response, midway = await upload_slowly(
                client, DOCUMENT, lambda: buffering.spooled("client_body_temp")
            )
    assert response.status_code == 201, response.text
    assert midway, "the probe saw no spooled body: it would prove nothing"
    assert "client request body is buffered to a temporary file" in buffering.error_log()


async def download_slowly(
    nginx: Nginx, cookies: httpx.Cookies, document_id: str
) -> tuple[bytes, list[str]]:
    """Download a document through `nginx` as a slow client: a small receive window, a
    pause after the first bytes to look at nginx's temporary files."""
    async with client_of(nginx, socket_options=SMALL_WINDOW) as client:
        client.cookies = cookies
        async with client.stream("GET", f"/api/v1/documents/{document_id}/content") as answer:
            assert answer.status_code == 200
            assert_hsts(answer)
            chunks = answer.aiter_raw()
            received = [await anext(chunks)]
            await asyncio.sleep(1.5)  # the platform has more; nginx must not keep it on disk
            seen = await asyncio.to_thread(nginx.spooled, "proxy_temp")
            received += [chunk async for chunk in chunks]
    return b"".join(received), seen


@pytest.fixture
async def stored(jan) -> str:
    response = await jan.post(
        "/api/v1/documents", params={"name": "deed.pdf"}, content=DOCUMENT, headers=csrf(jan)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_a_download_streams_back_without_touching_nginx_disk(jan, proxy, stored):
    data, midway = await download_slowly(proxy, jan.cookies, stored)
    assert data == DOCUMENT
    assert midway == []
    assert proxy.spooled("proxy_temp") == []


async def test_control_response_buffering_on_spools_the_download(
    jan, upstream_port, stored, tmp_path
):
    with running_nginx(tmp_path, upstream_port, RESPONSE_BUFFERING_ON) as buffering:
        data, midway = await download_slowly(buffering, jan.cookies, stored)
    assert data == DOCUMENT
    assert midway, "the probe saw no spooled response: it would prove nothing"
