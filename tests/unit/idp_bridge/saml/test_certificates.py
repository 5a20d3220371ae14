"""The SAML certificates of the relying-party keys: the same key always gives the same
certificate, and the key files xmlsec1 reads are private and removed at shutdown."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import RSAKey

from idp_bridge.saml.certificates import KeyFiles, certificate

KEY = RSAKey.generate_key(2048, parameters={"kid": "sig-20261124-0a1b2c3d"}, private=True)


def test_a_key_always_gives_the_same_certificate() -> None:
    first = certificate(KEY, "https://kluis.test/auth/saml/eidas/metadata")
    again = certificate(KEY, "https://kluis.test/auth/saml/eidas/metadata")
    assert first.public_bytes(serialization.Encoding.DER) == again.public_bytes(
        serialization.Encoding.DER
    )
    assert first.not_valid_before_utc.date().isoformat() == "2026-11-24"
    assert first.public_key().public_numbers() == KEY.private_key.public_key().public_numbers()  # type: ignore[union-attr]
    other = RSAKey.generate_key(2048, parameters={"kid": "sig-20261124-ffffffff"}, private=True)
    assert certificate(other, "x").serial_number != first.serial_number


def test_key_files_are_private_and_removed() -> None:
    files = KeyFiles("https://kluis.test/auth/saml/eidas/metadata")
    key_file, cert_file = files.pair(KEY)
    assert files.pair(KEY) == (key_file, cert_file)
    assert stat.S_IMODE(Path(key_file).stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(key_file).parent.stat().st_mode) == 0o700
    loaded = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    assert loaded == certificate(KEY, "https://kluis.test/auth/saml/eidas/metadata")
    files.remove()
    assert not Path(key_file).exists() and not Path(key_file).parent.exists()
