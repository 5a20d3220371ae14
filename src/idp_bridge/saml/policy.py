"""What the service provider accepts in a SAML message before pysaml2 reads it.

pysaml2 verifies signatures and conditions, but leaves the algorithms to xmlsec1, which
accepts SHA-1 and CBC encryption (open to padding-oracle attacks on XML Encryption). These
checks refuse them, and any document type declaration, before the message goes further.
"""

from __future__ import annotations

import base64
import binascii
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from idp_bridge.domain import LoginRefused

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XENC = "{http://www.w3.org/2001/04/xmlenc#}"
# A SAML response is a few kilobytes; an eIDAS one with every attribute stays under 64 KiB.
MAX_MESSAGE_BYTES = 256 * 1024

SIGNATURE_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
        "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
    }
)
DIGEST_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)
ENCRYPTION_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2009/xmlenc11#aes128-gcm",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm",
        # key transport
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        "http://www.w3.org/2009/xmlenc11#rsa-oaep",
    }
)


def refused(check: str) -> LoginRefused:
    return LoginRefused("login-token-invalid", check=check)


def decode_message(value: str | None, what: str) -> bytes:
    """A base64 message of the POST binding, size-bounded."""
    if not value:
        raise refused(f"no {what}")
    if len(value) > MAX_MESSAGE_BYTES * 4 // 3 + 4:
        raise refused(f"{what} too large")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise refused(f"{what} not base64") from exc


def parse(xml: bytes) -> Element:
    """Parse untrusted XML: no DTD, no entities, no external references."""
    try:
        return fromstring(xml, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise refused("xml refused") from exc


def check_algorithms(root: Element) -> None:
    """Every signature, digest and encryption method in the message must be on our lists."""
    for tag, allowed, what in (
        (f"{DS}SignatureMethod", SIGNATURE_ALGORITHMS, "signature"),
        (f"{DS}DigestMethod", DIGEST_ALGORITHMS, "digest"),
        (f"{XENC}EncryptionMethod", ENCRYPTION_ALGORITHMS, "encryption"),
    ):
        for element in root.iter(tag):
            algorithm = element.get("Algorithm", "")
            if algorithm not in allowed:
                raise refused(f"{what} algorithm {algorithm.rsplit('#', 1)[-1]:.30} not allowed")


def check_message(xml: bytes) -> Element:
    root = parse(xml)
    check_algorithms(root)
    return root
