"""A SAML identity provider on loopback and a live server that logs in through it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from kluis.settings import Settings, load_settings
from tests.conftest import LiveServer
from tests.support.net import free_port
from tests.support.saml_idp import SamlIdentityProvider


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdentityProvider]:
    idp = SamlIdentityProvider(tmp_path_factory.mktemp("saml-idp"))
    idp.start()
    yield idp
    idp.stop()


def saml_settings(settings: Settings, idp: SamlIdentityProvider) -> Settings:
    """The test settings with the two SAML profiles, both at `idp`, on a port of their own."""
    port = free_port()
    providers = load_settings(
        {"KLUIS_ENV": "test"},
        providers={
            "eidas": {
                "profile": "eidas",
                "metadata_url": idp.entity_id,
                "metadata_certificate": Path(idp.cert_file).read_text(),
            },
            "fas-saml": {"profile": "fas-saml", "metadata_url": idp.entity_id},
        },
    ).providers
    return msgspec.structs.replace(
        settings,
        port=port,
        providers={
            **settings.providers,
            "eidas": providers["eidas"],
            "fas-saml": providers["fas-saml"],
        },
    )


@pytest.fixture(scope="module")
def saml_live(settings: Settings, saml_idp: SamlIdentityProvider) -> Iterator[LiveServer]:
    server = LiveServer(saml_settings(settings, saml_idp))
    server.start()
    saml_idp.sp_metadata_urls = [
        f"{server.url}/auth/saml/{name}/metadata" for name in ("eidas", "fas-saml")
    ]
    yield server
    server.stop()


@pytest.fixture
async def saml_client(
    server: LiveServer, saml_live: LiveServer
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the SAML-enabled server, on an emptied database."""
    async with httpx.AsyncClient(base_url=saml_live.url, timeout=20) as client:
        yield client
