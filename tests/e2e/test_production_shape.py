"""The platform in its production shape, each part real, on loopback: `kluis serve` in two
granian processes, the database of the run (PostgreSQL in the suite's second pass), Redis
for sessions, rate limits and the task queue, a clamd pool, six S3 buckets over three
"sites" (three S3-speaking servers) with 4-of-6 coding, and the keys in a SoftHSM2 token."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest
from cryptography.exceptions import InvalidTag
from moto.server import ThreadedMotoServer

from kluis.keys import LocalKeyFile, key_provider_from
from kluis.settings import LocationSettings, Settings
from tests.conftest import _truncate
from tests.support import files
from tests.support.commands import command_env, kluis_serve
from tests.support.instances import instances
from tests.support.login import JAN, csrf, login
from tests.support.net import free_port
from tests.support.softhsm import SoftHsm
from tests.support.vault import upload
from vault.models import Document
from vault.storage.s3 import S3Location

KEY_ID = SECRET = "testing"


class Site:
    """An S3-speaking server with two buckets: one site of three."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.buckets = [f"kluis-{uuid.uuid4().hex[:10]}" for _ in range(2)]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bucket(self, name: str) -> S3Location:
        return S3Location(
            name, name, endpoint_url=self.endpoint, access_key_id=KEY_ID, secret_access_key=SECRET
        )

    async def start(self) -> None:
        self.server.start()
        for name in self.buckets:
            location = self.bucket(name)
            await (await location.client()).create_bucket(Bucket=name)
            await location.close()

    def locations(self) -> list[dict[str, str]]:
        return [
            {
                "kind": "s3",
                "endpoint_url": self.endpoint,
                "bucket": bucket,
                "access_key_id": KEY_ID,
                "secret_access_key": SECRET,
            }
            for bucket in self.buckets
        ]


@pytest.fixture
async def sites() -> AsyncIterator[list[Site]]:
    found = [Site() for _ in range(3)]
    for site in found:
        await site.start()
    yield found
    for site in found:
        site.server.stop()


@pytest.fixture
def shape(settings, softhsm: SoftHsm, redis_url, clamd, sites, tmp_path) -> Settings:
    """The run's settings in the production shape (tmp_path: a data folder of its own)."""
    vault = msgspec.structs.replace(
        settings.vault,
        fragments_needed=4,
        fragments_total=6,
        locations=[LocationSettings(**loc) for site in sites for loc in site.locations()],
        clamd_url=f"unix://{tmp_path}/clamd-down.sock,{clamd.url}",
    )
    tasks = msgspec.structs.replace(settings.tasks, broker_url=f"{redis_url}/8")
    return softhsm.platform_settings(
        settings, vault=vault, tasks=tasks, redis_url=f"{redis_url}/9", data_dir=str(tmp_path)
    )


@pytest.fixture
async def empty_database(platform) -> AsyncIterator[None]:
    """Everything sealed here is sealed by the token's keys: no row sealed by the run's key
    file may meet them, and none of theirs may stay for the tests after."""
    await _truncate(platform.engine)
    yield
    await _truncate(platform.engine)


async def test_serve_workers_redis_s3_sites_and_the_hsm_together(
    shape, sites, platform, empty_database
):
    keys = subprocess.run(
        [sys.executable, "-m", "kluis.cli", "keys", "init"],
        env=command_env(shape),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert keys.returncode == 0, keys.stderr
    documents = {f"deed-{i}.pdf": files.pdf(f"deed {i}".encode() * 4000) for i in range(3)}

    # Logins go through the development identity provider of an in-process instance (its
    # codes live in its memory); the session it opens, in the database and Redis, holds in
    # every process.
    with instances(shape, count=1) as [entry]:
        async with kluis_serve(shape, "--workers", "2") as served:
            async with httpx.AsyncClient(base_url=entry.url, timeout=30) as jan:
                await login(jan, login_hint=JAN)
                jan.base_url = httpx.URL(served.url)
                stored = {}
                for name, data in documents.items():
                    jan.headers["connection"] = "close"  # either process may answer
                    response = await upload(jan, name, data)
                    assert response.status_code == 201, response.text
                    stored[response.json()["id"]] = data
                assert await objects_at(sites) == [3] * 6  # a fragment in every bucket
                await assert_sealed_by_the_token(shape, platform, stored)

                sites[0].server.stop()  # a whole site lost: 4 fragments of 6 are left
                for document_id, data in stored.items():
                    content = await jan.get(f"/api/v1/documents/{document_id}/content")
                    assert content.content == data
                sites[0].server.start()

                # Logged out by one process, refused by the other at once (Redis).
                assert (await jan.post("/auth/logout", headers=csrf(jan))).status_code < 400
                jan.base_url = httpx.URL(entry.url)
                assert (await jan.get("/api/v1/me")).status_code == 401


async def objects_at(sites: list[Site]) -> list[int]:
    counts = []
    for site in sites:
        for name in site.buckets:
            location = site.bucket(name)
            counts.append(len([key async for key in location.keys()]))
            await location.close()
    return counts


async def assert_sealed_by_the_token(shape: Settings, platform, stored: dict) -> None:  # type: ignore[no-untyped-def]
    """The served processes sealed the data keys in the HSM, not with the run's key file."""
    token, key_file = key_provider_from(shape), LocalKeyFile(Path(shape.key_file))
    async with platform.session_maker() as db:
        for document_id in stored:
            document = await db.get(Document, uuid.UUID(document_id))
            aad = b"document-key:" + document.id.bytes
            assert len(token.open(document.wrapped_key, aad)) == 32
            with pytest.raises(InvalidTag):
                key_file.open(document.wrapped_key, aad)
