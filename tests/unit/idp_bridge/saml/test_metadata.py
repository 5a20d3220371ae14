"""A provider's metadata is believed only when signed, whole, by the configured certificate
(real xmlsec1, metadata signed by pysaml2 as an identity provider signs it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from saml2.sigver import get_xmlsec_binary

from idp_bridge.domain import LoginRefused
from idp_bridge.saml.metadata import check_signature
from idp_bridge.saml.provider import _XmlSec1
from tests.support.saml_idp import SamlIdentityProvider, key_pair, offline_provider, rp_keyring

XMLSEC = _XmlSec1(get_xmlsec_binary())
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdentityProvider]:
    yield SamlIdentityProvider(tmp_path_factory.mktemp("idp"))


def refusal(xml: str, certificate: str) -> str:
    with pytest.raises(LoginRefused) as refused:
        check_signature(xml.encode(), certificate, XMLSEC)
    assert refused.value.type == "login-provider-unavailable"
    return refused.value.detail["check"]


def test_metadata_signed_by_the_providers_certificate_passes(idp: SamlIdentityProvider) -> None:
    check_signature(idp.metadata.encode(), idp.cert_file, XMLSEC)


def test_metadata_signed_by_another_key_is_refused(
    idp: SamlIdentityProvider, tmp_path: Path
) -> None:
    _key, other = key_pair(tmp_path, "other")
    assert refusal(idp.metadata, other) == "saml metadata signature"


def test_metadata_changed_after_signing_is_refused(idp: SamlIdentityProvider) -> None:
    changed = idp.metadata.replace(f"{idp.url}/sso", "https://evil.test/sso")
    assert changed != idp.metadata
    assert refusal(changed, idp.cert_file) == "saml metadata signature"


def test_unsigned_metadata_is_refused(idp: SamlIdentityProvider) -> None:
    signature = re.compile(r"<(\w+:)?Signature[ >].*?</(\w+:)?Signature>", re.DOTALL)
    unsigned, removed = signature.subn("", idp.metadata)
    assert removed == 1
    assert refusal(unsigned, idp.cert_file) == "saml metadata not signed"


def test_a_signed_descriptor_cannot_vouch_for_a_document_around_it(
    idp: SamlIdentityProvider,
) -> None:
    # Signature wrapping: the genuine signed descriptor, next to an attacker's one, in an
    # unsigned EntitiesDescriptor.
    body = idp.metadata.split("?>", 1)[-1]
    evil = body.replace(f"{idp.url}/sso", "https://evil.test/sso").replace('ID="', 'ID="evil-')
    wrapped = f'<EntitiesDescriptor xmlns="{MD}">{evil}{body}</EntitiesDescriptor>'
    assert refusal(wrapped, idp.cert_file) == "saml metadata not signed"


async def test_the_provider_keeps_its_good_copy_when_a_refresh_is_not_signed_by_the_certificate(
    idp: SamlIdentityProvider,
) -> None:
    genuine, now = idp.metadata, [1_750_000_000.0]
    signed_by = {
        "metadata_certificate": Path(idp.cert_file).read_text(),
        "metadata_max_age_seconds": 60,
    }
    provider = offline_provider(idp, lambda: now[0], **signed_by)
    fresh = offline_provider(idp, **signed_by)
    keyring = rp_keyring()
    try:
        _client, entity = await provider.client(keyring)
        assert entity == idp.entity_id

        idp.metadata = genuine.replace(f"{idp.url}/sso", "https://evil.test/sso")
        now[0] += 120  # past metadata_max_age_seconds: fetched again, refused, not taken
        client, _entity = await provider.client(keyring)
        assert "evil.test" not in str(client.metadata.single_sign_on_service(entity))

        with pytest.raises(LoginRefused) as refused:
            await fresh.client(keyring)
        assert refused.value.detail == {"check": "saml metadata signature"}
    finally:
        idp.metadata = genuine
        provider.remove_key_files()
        fresh.remove_key_files()
