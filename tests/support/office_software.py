"""An office's own software, as tests drive it: a registered API client with an EC key,
its client assertions (`private_key_jwt`), and an HTTP client holding a bearer token. The
population register's software likewise (`register_registry`, `registry_client`).

    async with await software_client(server, platform, office_id) as software:
        await software.get(f"/api/v1/offices/{office_id}/documents")
    async with await registry_client(server, platform) as register:
        await register.post("/api/v1/death-notices", json={...})
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.support.offices import OPERATOR

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Software:
    client_id: str
    key: ECKey
    token_url: str

    def assertion(self, key: ECKey | None = None, **claims: Any) -> str:
        """A client assertion; `claims` replace the defaults (None leaves one out)."""
        now = int(time.time())
        defaults = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        }
        body = {k: v for k, v in (defaults | claims).items() if v is not None}
        signer = key or self.key
        return jwt.encode({"alg": "ES256", "kid": signer.kid}, body, signer)

    def token_request(self, assertion: str | None = None, **form: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion or self.assertion(),
        } | form


def new_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": uuid.uuid4().hex}, private=True)


async def register_software(platform, office_id: str, name: str = "Akteprogramma") -> Software:
    """The office's software registered as an operator does (`kluis notary client add`)."""
    key = new_key()
    async with platform.session_maker() as db:
        office = await platform.register.office(db, uuid.UUID(office_id))
        client = await platform.office_clients.register(
            db, office, name=name, jwks={"keys": [key.as_dict(private=False)]}, actor=OPERATOR
        )
    return Software(client.client_id, key, platform.settings.base_url + "/oauth/token")


async def token_for(server, software: Software) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        response = await client.post("/oauth/token", data=software.token_request())
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def software_client(server, platform, office_id: str) -> httpx.AsyncClient:
    """An HTTP client for the live server acting as office `office_id`'s software."""
    software = await register_software(platform, office_id)
    token = await token_for(server, software)
    return httpx.AsyncClient(
        base_url=server.url, timeout=20, headers={"authorization": f"Bearer {token}"}
    )


async def register_registry(platform, name: str = "Rijksregister") -> Software:
    """The population register's software registered as an operator does
    (`kluis registry client add`)."""
    key = new_key()
    async with platform.session_maker() as db:
        client = await platform.office_clients.register_registry(
            db, name=name, jwks={"keys": [key.as_dict(private=False)]}, actor=OPERATOR
        )
    return Software(client.client_id, key, platform.settings.base_url + "/oauth/token")


async def registry_client(server, platform) -> httpx.AsyncClient:
    """An HTTP client for the live server acting as the population register's software."""
    software = await register_registry(platform)
    token = await token_for(server, software)
    return httpx.AsyncClient(
        base_url=server.url, timeout=20, headers={"authorization": f"Bearer {token}"}
    )
