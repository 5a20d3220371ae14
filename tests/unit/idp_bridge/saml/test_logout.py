"""Our LogoutRequest never puts a NameID that may carry a national registry number in a URL
(real pysaml2 and xmlsec1, the provider's metadata from the test IdP)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from saml2 import saml

from idp_bridge.interfaces import LogoutForm
from idp_bridge.saml import logout
from tests.support.saml_idp import SamlIdentityProvider, offline_provider, rp_keyring

KEYRING = rp_keyring()
EIDAS_NAME_ID = "BE/BE/85073003328"


def reference(name_id: str) -> str:
    return logout.session_reference(saml.NameID(text=name_id), "session-1")


async def client_of(idp: SamlIdentityProvider) -> AsyncIterator[tuple[Any, str]]:
    provider = offline_provider(idp)
    try:
        yield await provider.client(KEYRING)
    finally:
        provider.remove_key_files()


@pytest.fixture(scope="module")
async def takes_posts(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, str]]:
    async for client in client_of(SamlIdentityProvider(tmp_path_factory.mktemp("post"))):
        yield client


@pytest.fixture(scope="module")
async def redirect_only(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Any, str]]:
    idp = SamlIdentityProvider(tmp_path_factory.mktemp("redirect"), post_logout=False)
    async for client in client_of(idp):
        yield client


def test_a_provider_that_takes_posts_gets_a_signed_form(takes_posts: tuple[Any, str]) -> None:
    client, idp = takes_posts
    form = logout.request(client, idp, reference(EIDAS_NAME_ID))
    assert isinstance(form, LogoutForm)
    assert form.action.endswith("/slo")
    xml = base64.b64decode(form.fields["SAMLRequest"]).decode()
    assert EIDAS_NAME_ID in xml and "SignatureValue" in xml and "SessionIndex" in xml


def test_a_name_id_that_may_carry_a_number_is_never_put_in_a_url(
    redirect_only: tuple[Any, str],
) -> None:
    client, idp = redirect_only
    assert logout.request(client, idp, reference(EIDAS_NAME_ID)) is None


def test_an_opaque_name_id_goes_by_redirect_when_posts_are_not_taken(
    redirect_only: tuple[Any, str],
) -> None:
    client, idp = redirect_only
    url = logout.request(client, idp, reference("fas-3f2a9c"))
    assert isinstance(url, str) and "/slo?SAMLRequest=" in url and "Signature=" in url
