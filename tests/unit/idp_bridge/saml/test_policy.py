"""What the service provider refuses before pysaml2 reads a message."""

from __future__ import annotations

import base64

import pytest

from idp_bridge.domain import LoginRefused
from idp_bridge.saml import policy

SIGNED = b"""<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature><ds:SignedInfo>
<ds:SignatureMethod Algorithm="%s"/><ds:Reference><ds:DigestMethod Algorithm="%s"/>
</ds:Reference></ds:SignedInfo></ds:Signature></r>"""
SHA256 = b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST256 = b"http://www.w3.org/2001/04/xmlenc#sha256"


def test_sha256_signatures_pass() -> None:
    policy.check_message(SIGNED % (SHA256, DIGEST256))


@pytest.mark.parametrize(
    "xml",
    [
        SIGNED % (b"http://www.w3.org/2000/09/xmldsig#rsa-sha1", DIGEST256),
        SIGNED % (SHA256, b"http://www.w3.org/2000/09/xmldsig#sha1"),
        b'<r xmlns:x="http://www.w3.org/2001/04/xmlenc#"><x:EncryptionMethod '
        b'Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/></r>',
        b'<!DOCTYPE r [<!ENTITY a "a">]><r>&a;</r>',
        b'<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
        b"<r><unclosed></r>",
    ],
    ids=["sha1-signature", "sha1-digest", "cbc", "entity", "external-dtd", "malformed"],
)
def test_weak_or_dangerous_xml_is_refused(xml: bytes) -> None:
    with pytest.raises(LoginRefused) as refusal:
        policy.check_message(xml)
    assert refusal.value.reason == "login-token-invalid"


@pytest.mark.parametrize("value", [None, "", "not base64!", "A" * (400 * 1024)])
def test_a_message_must_be_bounded_base64(value: str | None) -> None:
    with pytest.raises(LoginRefused):
        policy.decode_message(value, "SAMLResponse")
    assert policy.decode_message(base64.b64encode(b"<r/>").decode(), "x") == b"<r/>"
