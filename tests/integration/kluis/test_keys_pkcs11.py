"""The whole platform on the PKCS#11 key provider: a real SoftHSM2 token behind a live
server. A citizen logs in, uploads and downloads documents around a key rotation; the whole
authorization world is re-sealed under a new master key (`kluis keys reseal`). The server is
its own, on the test database emptied before and after: nothing sealed under the local key
file may meet the token's keys."""

from __future__ import annotations

import asyncio
import base64
import logging
import os

import httpx
import msgspec
import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, update

from idp_bridge.models import Person
from idp_bridge.services.people import NRN_AAD
from kluis import cli
from kluis.app import build_platform
from kluis.db import metadata
from kluis.keys import LocalKeyFile, managed_keys_from
from kluis.keys.pkcs11 import Pkcs11Keys
from kluis.reseal import SEALED, reseal
from kluis.settings import get_settings
from tests.conftest import LiveServer, _clear_locations, _truncate
from tests.support import files
from tests.support.login import JAN, login
from tests.support.net import free_port
from tests.support.softhsm import pkcs11_environ
from tests.support.vault import upload
from tests.support.world import cast_of
from vault.models import Document
from vault.services.documents import data_key_aad


@pytest.fixture
async def hsm_server(settings, platform, softhsm, monkeypatch):
    hsm_settings = softhsm.platform_settings(settings, port=free_port())
    # The development identity provider is found at the server's own address.
    hsm_settings.providers = {
        name: msgspec.structs.replace(
            provider,
            discovery_url=provider.discovery_url.replace(settings.base_url, hsm_settings.base_url),
        )
        for name, provider in settings.providers.items()
    }
    managed_keys_from(hsm_settings, require_keys=False).create_missing()  # `kluis keys init`
    # A rotation reaches the running server at its next seal, not a minute later.
    monkeypatch.setattr("kluis.keys.pkcs11.CURRENT_KEY_RECHECK_SECONDS", 0.0)
    await _truncate(platform.engine)
    _clear_locations(settings)
    server = LiveServer(hsm_settings)
    server.start()
    server.sessions = platform.session_maker
    yield server
    server.stop()
    await _truncate(platform.engine)
    _clear_locations(settings)


@pytest.fixture
async def hsm_platform(hsm_server):
    """The platform on the token, for the test's own work (the server's own belongs to the
    server's event loop)."""
    built = build_platform(hsm_server.app.state.settings)
    yield built
    await built.documents.engine.close()
    await built.engine.dispose()


async def _download(client: httpx.AsyncClient, document_id: str) -> bytes:
    response = await client.get(f"/api/v1/documents/{document_id}/content")
    assert response.status_code == 200, response.text
    return response.content


async def test_documents_round_trip_with_their_keys_sealed_in_the_token(
    hsm_server, settings, softhsm, caplog
):
    caplog.set_level(logging.INFO)
    hsm_settings = hsm_server.app.state.settings
    assert hsm_settings.key_provider == "pkcs11"
    assert isinstance(hsm_server.app.state.platform.keys, Pkcs11Keys)
    token = managed_keys_from(hsm_settings)
    local = LocalKeyFile(settings.path(settings.key_file))
    async with httpx.AsyncClient(base_url=hsm_server.url, timeout=20) as jan:
        await login(jan, login_hint=JAN)
        first = files.pdf(os.urandom(200_000))
        response = await upload(jan, "Testament.pdf", first)
        assert response.status_code == 201, response.text
        first_id = response.json()["id"]
        assert await _download(jan, first_id) == first

        rotated = token.rotate()  # `kluis keys rotate` while the server runs
        second = files.pdf(os.urandom(100_000))
        response = await upload(jan, "Huwelijkscontract.pdf", second)
        assert response.status_code == 201, response.text
        second_id = response.json()["id"]

        assert await _download(jan, second_id) == second
        assert await _download(jan, first_id) == first  # still under the old master key

    async with hsm_server.sessions() as db:
        documents = {
            str(d.id): d for d in await db.scalars(select(Document)) if d.owner_id is not None
        }
        person = await db.scalar(select(Person))
    old, new = documents[first_id], documents[second_id]
    assert old.wrapped_key.startswith(b"k1\x00")
    assert new.wrapped_key.startswith(f"{rotated.key_id}\x00".encode())
    data_keys = [token.open(d.wrapped_key, data_key_aad(d.id)) for d in (old, new)]
    assert [len(k) for k in data_keys] == [32, 32]
    # Neither the PIN nor a data key reaches a log.
    logged = caplog.text
    assert softhsm.pin not in logged
    assert not [k for k in data_keys if k.hex() in logged or base64.b64encode(k).decode() in logged]
    with pytest.raises(InvalidTag):  # the local key file's k1 is another key
        local.open(old.wrapped_key, data_key_aad(old.id))
    # The citizen's number too is sealed and indexed with the token's keys.
    assert token.open(person.nrn_sealed, NRN_AAD) == JAN.encode()
    assert person.nrn_index == token.blind_index("nrn", JAN)
    assert person.nrn_index != local.blind_index("nrn", JAN)


async def _sealed_values(platform) -> dict[str, list[bytes]]:
    async with platform.session_maker() as db:
        return {
            spec.name: [
                v
                for v in await db.scalars(select(metadata.tables[spec.table].c[spec.column]))
                if v is not None
            ]
            for spec in SEALED
        }


async def test_reseal_brings_every_sealed_value_under_the_current_key(
    hsm_server, hsm_platform, monkeypatch
):
    """The whole world (documents, offices and their seal keys, deeds, dossiers, messages,
    questionnaires, heirs, sessions) sealed under k1, a rotation, `kluis keys reseal`."""
    async with cast_of(hsm_server, hsm_platform) as cast:
        world = await cast.build_world()
        token = managed_keys_from(hsm_platform.settings)
        before = await _sealed_values(hsm_platform)
        assert all(before.values()), [name for name, values in before.items() if not values]
        assert {v[:3] for values in before.values() for v in values} == {b"k1\x00"}

        token.rotate()
        report = await reseal(hsm_platform.session_maker, token, batch=2)

        assert report.ok and report.changed_meanwhile == 0
        assert dict(report.resealed) == {name: len(values) for name, values in before.items()}
        after = await _sealed_values(hsm_platform)
        assert dict(report.resealed) == {name: len(values) for name, values in before.items()}
        assert {v[:3] for values in after.values() for v in values} == {b"k2\x00"}
        # The platform reads everything it re-sealed: documents, the office's seal, messages.
        jan, sophie = cast.clients["owner"], cast.clients["notary_sent_to"]
        content = await jan.get(f"/api/v1/documents/{world.document}/content")
        assert content.status_code == 200 and content.content == b"mijn laatste wil\n"
        messages = await jan.get(f"/api/v1/dossiers/{world.dossier}/messages")
        assert messages.status_code == 200 and "Zie bijlage." in messages.text
        assert (await sophie.get(f"/api/v1/offices/{world.office_a}/deeds")).status_code == 200
        assert (await jan.get("/api/v1/me")).status_code == 200

        # As the operator runs it: nothing left to do.
        output = await _kluis(monkeypatch, hsm_platform.settings, "keys", "reseal")
        total = sum(len(v) for v in after.values())
        assert output.splitlines() == [
            f"sealed values found, by master key: k2 {total}",
            "every sealed value is sealed under k2",
        ]


async def _kluis(monkeypatch, settings, *args: str, code: int = 0) -> str:
    """Run a `kluis` command on `settings`' database and token, as an operator would (in a
    thread: the command runs an event loop of its own)."""
    for name, value in {
        "KLUIS_ENV": "test",
        "KLUIS_DATABASE_URL": settings.database_url,
        **pkcs11_environ(settings.pkcs11),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli.main, list(args), catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == code, result.output
    return result.output


async def test_reseal_as_the_operator_runs_it(hsm_server, hsm_platform, monkeypatch):
    async with httpx.AsyncClient(base_url=hsm_server.url, timeout=20) as jan:
        await login(jan, login_hint=JAN)
        data = files.pdf(os.urandom(50_000))
        document = (await upload(jan, "Testament.pdf", data)).json()["id"]
        assert "current master key: k2" in await _kluis(
            monkeypatch, hsm_platform.settings, "keys", "rotate"
        )

        output = await _kluis(monkeypatch, hsm_platform.settings, "keys", "reseal")

        assert "documents.wrapped_key: 1 re-sealed under k2" in output
        assert "people.nrn_sealed: 1 re-sealed under k2" in output
        assert output.rstrip().endswith("every sealed value is sealed under k2")
        assert (await jan.get(f"/api/v1/documents/{document}/content")).content == data
    async with hsm_platform.session_maker() as db:
        person = await db.scalar(select(Person))
        assert person.nrn_sealed.startswith(b"k2\x00")
        # A value no key opens is reported, and left as it is.
        await db.execute(update(Person).values(nrn_sealed=b"k1\x00" + bytes(40)))
        await db.commit()
    output = await _kluis(monkeypatch, hsm_platform.settings, "keys", "reseal", code=1)
    assert f"UNOPENED people.nrn_sealed {person.id}" in output
    assert JAN not in output
