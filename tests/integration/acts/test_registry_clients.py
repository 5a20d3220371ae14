"""The population register's software as an API client: registered by the operator in the
platform's history, a token by client credentials (`private_key_jwt`) like an office's
software, and nothing on the offices' or the citizens' routes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from acts import OfficeSoftware, RegistryClient
from acts.models import OfficeApiClient
from acts.oauth import office_software_middleware
from kluis.audit import PLATFORM_SUBJECT, HistoryEvent
from kluis.errors import Invalid, NotFound
from tests.support.office_software import (
    new_key,
    register_registry,
    register_software,
    registry_client,
    token_for,
)
from tests.support.offices import OPERATOR


@pytest.fixture
async def register(server, platform):
    return await register_registry(platform)


@pytest.fixture
async def anonymous(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def platform_history(server) -> list[tuple[str, str | None, dict]]:
    async with server.sessions() as db:
        rows = await db.execute(
            select(HistoryEvent.action, HistoryEvent.target, HistoryEvent.detail)
            .where(HistoryEvent.subject_id == PLATFORM_SUBJECT)
            .order_by(HistoryEvent.seq)
        )
    return [tuple(row) for row in rows]


async def test_the_operator_registers_a_registry_client_in_the_platforms_history(
    server, platform, register
):
    async with server.sessions() as db:
        stored = await db.scalar(
            select(OfficeApiClient).where(OfficeApiClient.client_id == register.client_id)
        )
        listed = await platform.office_clients.registry_clients(db)

    assert (stored.kind, stored.office_id, stored.name) == ("registry", None, "Rijksregister")
    assert [c.client_id for c in listed] == [register.client_id]
    assert await platform_history(server) == [
        (
            "acts:registry-client:registered",
            "Rijksregister",
            {"client_id": register.client_id, "kind": "registry"},
        )
    ]


async def test_a_registry_client_needs_a_name_and_public_keys(server, platform):
    key = new_key()
    async with platform.session_maker() as db:
        with pytest.raises(Invalid) as no_name:
            await platform.office_clients.register_registry(
                db, name="  ", jwks={"keys": [key.as_dict(private=False)]}, actor=OPERATOR
            )
        with pytest.raises(Invalid) as private:
            await platform.office_clients.register_registry(
                db, name="Rijksregister", jwks={"keys": [key.as_dict(private=True)]}, actor=OPERATOR
            )

    assert (no_name.value.type, private.value.type) == ("client-name-invalid", "jwks-invalid")


async def test_the_registry_client_gets_a_token_standing_for_the_register(
    server, platform, register, anonymous
):
    response = await anonymous.post("/oauth/token", data=register.token_request())

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    async with platform.session_maker() as db:
        caller = await platform.office_clients.caller(db, body["access_token"])
    assert isinstance(caller, RegistryClient)
    assert caller.label == "Rijksregister (registry)"


async def test_the_bearer_layer_puts_the_registry_client_on_its_own_state_key(
    server, platform, register, office_id
):
    registry_token = await token_for(server, register)
    office_token = await token_for(server, await register_software(platform, office_id))
    seen: list[dict] = []

    async def app(scope, receive, send):
        seen.append(dict(scope["state"]))

    class App:
        state = type("State", (), {"platform": platform})

    layer = office_software_middleware(app)
    for token in (registry_token, office_token):
        scope = {
            "type": "http",
            "path": "/api/v1/death-notices",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "litestar_app": App,
        }
        await layer(scope, None, None)

    assert isinstance(seen[0]["registry_client"], RegistryClient)
    assert "office_software" not in seen[0]
    assert isinstance(seen[1]["office_software"], OfficeSoftware)
    assert "registry_client" not in seen[1]


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [
        ("registry", "death-notices", 200),
        ("registry", "office", 400),
        ("registry", "office death-notices", 400),
        ("office", "death-notices", 400),
        ("office", "office", 200),
    ],
)
async def test_each_kind_of_client_asks_only_for_its_own_scope(
    server, platform, register, office_id, anonymous, who, scope, status
):
    client = register if who == "registry" else await register_software(platform, office_id)

    response = await anonymous.post("/oauth/token", data=client.token_request(scope=scope))

    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/offices/{office}/documents/"),
        ("POST", "/api/v1/offices/{office}/documents/"),
        ("GET", "/api/v1/offices/{office}/deeds/"),
        ("GET", "/api/v1/dossiers/?office_id={office}"),
        ("POST", "/api/v1/dossiers/"),
    ],
)
async def test_the_registry_client_gets_nothing_on_the_offices_routes(
    server, platform, office_id, method, path
):
    async with await registry_client(server, platform) as client:
        response = await client.request(
            method, path.format(office=office_id), params={"name": "x.txt"}, content=b"x"
        )

    # No office's member nor its software: the guard refuses before any office is looked up.
    assert response.status_code == 401, response.text
    assert response.json()["type"] == "login-required"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/documents"),
        ("POST", "/api/v1/documents"),
        ("GET", "/api/v1/history"),
        ("GET", "/api/v1/offices"),
        ("GET", "/api/v1/deeds"),
        ("GET", "/api/v1/from-offices"),
        ("GET", "/home"),
    ],
)
async def test_the_registry_client_does_not_reach_citizens_routes(
    server, platform, office_id, method, path
):
    async with await registry_client(server, platform) as client:
        response = await client.request(method, path, params={"name": "x.txt"}, content=b"x")

    assert response.status_code == 401, response.text


async def test_a_revoked_registry_client_gets_no_token_and_its_tokens_stop(
    server, platform, register, anonymous
):
    token = await token_for(server, register)
    async with platform.session_maker() as db:
        revoked = await platform.office_clients.revoke(db, register.client_id, actor=OPERATOR)
        caller = await platform.office_clients.caller(db, token)

    refused = await anonymous.post("/oauth/token", data=register.token_request())
    used = await anonymous.get("/api/v1/history", headers=bearer(token))

    assert revoked.revoked_at is not None
    assert caller is None
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert (used.status_code, used.json()["type"]) == (401, "invalid-token")
    assert [action for action, _, _ in await platform_history(server)] == [
        "acts:registry-client:registered",
        "acts:registry-client:revoked",
    ]


async def test_revoking_by_kind_does_not_touch_the_other_kind(
    server, platform, register, office_id
):
    software = await register_software(platform, office_id)
    async with platform.session_maker() as db:
        with pytest.raises(NotFound) as as_office:
            await platform.office_clients.revoke(
                db, register.client_id, actor=OPERATOR, kind="office"
            )
        with pytest.raises(NotFound) as as_registry:
            await platform.office_clients.revoke(
                db, software.client_id, actor=OPERATOR, kind="registry"
            )
        await platform.office_clients.revoke(db, software.client_id, actor=OPERATOR)

    assert as_office.value.type == as_registry.value.type == "client-not-found"
    async with server.sessions() as db:
        office_actions = list(
            await db.scalars(
                select(HistoryEvent.action)
                .where(HistoryEvent.subject_id == uuid.UUID(office_id))
                .where(HistoryEvent.action.startswith("acts:client:"))
                .order_by(HistoryEvent.seq)
            )
        )
    assert office_actions == ["acts:client:registered", "acts:client:revoked"]
    assert [a for a, _, _ in await platform_history(server)] == ["acts:registry-client:registered"]
