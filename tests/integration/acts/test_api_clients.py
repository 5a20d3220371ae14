"""The offices' own software over real HTTP: client credentials with `private_key_jwt`,
the token on the office's routes, and every refusal (RFC 6749 errors at the token endpoint,
401 `invalid-token` for a bad token, 404 on another office, 401 on citizens' routes)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from acts.api_clients import token_hash
from acts.models import OfficeApiToken
from kluis.audit import HistoryEvent
from tests.support.login import JAN, csrf
from tests.support.office_software import (
    new_key,
    register_software,
    software_client,
    token_for,
)
from tests.support.offices import OPERATOR
from tests.support.world import register_other_office


@pytest.fixture
async def software(server, platform, office_id):
    return await register_software(platform, office_id)


@pytest.fixture
async def anonymous(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        yield client


async def ask_token(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await client.post("/oauth/token", data=form)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_the_software_gets_a_token_and_works_for_its_office(server, platform, office_id, jan):
    async with await software_client(server, platform, office_id) as client:
        stored = await client.post(
            f"/api/v1/offices/{office_id}/documents/",
            params={"name": "Akte.txt"},
            content=b"akte uit het kantoorprogramma\n",
        )
        listed = await client.get(f"/api/v1/offices/{office_id}/documents/")
        content = await client.get(
            f"/api/v1/offices/{office_id}/documents/{stored.json()['id']}/content"
        )
        sent = await client.post(
            f"/api/v1/offices/{office_id}/documents/{stored.json()['id']}/send",
            json={"nrn": JAN},
        )

    assert stored.status_code == 201, stored.text  # no CSRF token: a bearer needs none
    assert [d["name"] for d in listed.json()] == ["Akte.txt"]
    assert content.content == b"akte uit het kantoorprogramma\n"
    assert sent.status_code == 201, sent.text
    async with server.sessions() as db:
        labels = set(
            await db.scalars(
                select(HistoryEvent.actor_label).where(
                    HistoryEvent.subject_id == uuid.UUID(office_id),
                    HistoryEvent.action.startswith("vault:"),
                )
            )
        )
    assert labels == {"Notaris Claes (software)"}


async def test_the_token_response_follows_rfc_6749(server, software, anonymous):
    response = await ask_token(anonymous, software.token_request())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert "refresh_token" not in body
    assert response.headers["cache-control"] == "no-store"
    async with server.sessions() as db:
        stored = await db.scalar(select(OfficeApiToken.token_hash))
    assert stored == token_hash(body["access_token"])  # only the hash is kept


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("wrong signature key", 401, "invalid_client"),
        ("expired assertion", 401, "invalid_client"),
        ("assertion living too long", 401, "invalid_client"),
        ("wrong audience", 401, "invalid_client"),
        ("no jti", 401, "invalid_client"),
        ("unknown client", 401, "invalid_client"),
        ("no assertion", 401, "invalid_client"),
        ("wrong grant type", 400, "unsupported_grant_type"),
        ("no grant type", 400, "unsupported_grant_type"),
        ("unknown scope", 400, "invalid_scope"),
        ("the register's scope", 400, "invalid_scope"),
    ],
)
async def test_the_token_endpoint_refuses(server, software, anonymous, case, status, error):
    now = int(time.time())
    form = {
        "wrong signature key": lambda: software.token_request(software.assertion(key=new_key())),
        "expired assertion": lambda: software.token_request(
            software.assertion(iat=now - 900, exp=now - 600)
        ),
        "assertion living too long": lambda: software.token_request(
            software.assertion(exp=now + 3600)
        ),
        "wrong audience": lambda: software.token_request(
            software.assertion(aud="https://elsewhere.example/oauth/token")
        ),
        "no jti": lambda: software.token_request(software.assertion(jti=None)),
        "unknown client": lambda: software.token_request(
            software.assertion(iss="nobody", sub="nobody")
        ),
        "no assertion": lambda: {"grant_type": "client_credentials"},
        "wrong grant type": lambda: software.token_request(grant_type="password"),
        "no grant type": lambda: {
            k: v for k, v in software.token_request().items() if k != "grant_type"
        },
        "unknown scope": lambda: software.token_request(scope="everything"),
        "the register's scope": lambda: software.token_request(scope="death-notices"),
    }[case]()

    response = await ask_token(anonymous, form)

    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    if status == 401:
        assert "www-authenticate" in response.headers
    async with server.sessions() as db:
        assert await db.scalar(select(OfficeApiToken.id)) is None


async def test_an_assertion_is_never_accepted_twice(server, software, anonymous):
    assertion = software.assertion()
    first = await ask_token(anonymous, software.token_request(assertion))
    again = await ask_token(anonymous, software.token_request(assertion))

    assert first.status_code == 200, first.text
    assert (again.status_code, again.json()["error"]) == (401, "invalid_client")


async def test_a_revoked_client_gets_no_token_and_its_tokens_stop(
    server, platform, software, anonymous, office_id
):
    token = await token_for(server, software)
    async with platform.session_maker() as db:
        await platform.office_clients.revoke(db, software.client_id, actor=OPERATOR)

    refused = await ask_token(anonymous, software.token_request())
    used = await anonymous.get(f"/api/v1/offices/{office_id}/documents/", headers=bearer(token))

    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert used.status_code == 401


async def test_an_invalid_or_expired_token_is_refused(server, software, anonymous, office_id):
    token = await token_for(server, software)
    async with server.sessions() as db:
        await db.execute(
            update(OfficeApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await db.commit()

    for presented in (token, "made-up"):
        response = await anonymous.get(
            f"/api/v1/offices/{office_id}/documents/", headers=bearer(presented)
        )
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == "invalid-token"
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_token_of_office_a_does_not_reach_office_b(server, platform, office_id):
    office_b = await register_other_office(platform)
    async with await software_client(server, platform, office_id) as client:
        listed = await client.get(f"/api/v1/offices/{office_b}/documents/")
        stored = await client.post(
            f"/api/v1/offices/{office_b}/documents/", params={"name": "x.txt"}, content=b"x"
        )

    assert (listed.status_code, listed.json()["type"]) == (404, "office-not-found")
    assert stored.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/documents"),
        ("POST", "/api/v1/documents"),
        ("GET", "/api/v1/history"),
        ("GET", "/api/v1/offices"),
        ("GET", "/home"),
    ],
)
async def test_the_software_does_not_reach_citizens_routes(
    server, platform, office_id, method, path
):
    async with await software_client(server, platform, office_id) as client:
        response = await client.request(method, path, params={"name": "x.txt"}, content=b"x")

    assert response.status_code == 401, response.text


async def test_a_cookie_session_still_needs_the_csrf_token(server, notary, office_id, software):
    token = await token_for(server, software)
    path = f"/api/v1/offices/{office_id}/documents/"

    without = await notary.post(path, params={"name": "a.txt"}, content=b"a")
    # A bearer token beside the session cookie does not lift the check either.
    beside = await notary.post(path, params={"name": "b.txt"}, content=b"b", headers=bearer(token))
    with_token = await notary.post(
        path, params={"name": "c.txt"}, content=b"c", headers=csrf(notary)
    )

    assert (without.status_code, without.json()["type"]) == (403, "csrf-token-invalid")
    assert beside.status_code == 403
    assert with_token.status_code == 201
