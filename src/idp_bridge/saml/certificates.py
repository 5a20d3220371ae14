"""The service provider's certificates and the key files xmlsec1 reads.

SAML publishes keys as X.509 certificates; the platform's relying-party keys (rp_keys) are
bare RSA keys, shared with OpenID. Each key gets a self-signed certificate that is a pure
function of the key and its kid (fixed serial and validity, deterministic PKCS#1 v1.5
signature), so every server process publishes the same metadata without storing anything.

xmlsec1 only reads keys from files: they are written once per kid, mode 0600, into a private
directory under TMPDIR (a tmpfs in deploy/: `RuntimeDirectory=`), removed at shutdown.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from joserfc.jwk import RSAKey

VALIDITY = timedelta(days=3652)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _not_before(kid: str) -> datetime:
    # kids are `<use>-YYYYMMDD-<hex>` (rp_keys); a kid of another shape starts at EPOCH.
    try:
        return datetime.strptime(kid.split("-")[1], "%Y%m%d").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return EPOCH


def certificate(key: RSAKey, common_name: str) -> x509.Certificate:
    kid = key.kid or ""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    start = _not_before(kid)
    serial = int.from_bytes(hashlib.sha256(kid.encode()).digest()[:16]) >> 1
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())  # type: ignore[union-attr]
        .serial_number(serial or 1)
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .sign(key.private_key, hashes.SHA256())  # type: ignore[arg-type]
    )


def certificate_body(pem: bytes) -> str:
    """The base64 body of a PEM certificate, as metadata and KeyInfo carry it."""
    return "".join(line for line in pem.decode().splitlines() if "-----" not in line)


class KeyFiles:
    """Key and certificate files for xmlsec1: the relying-party keys', and providers'
    certificates."""

    def __init__(self, common_name: str) -> None:
        self.common_name = common_name
        self._dir: Path | None = None

    def _folder(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="kluis-saml-"))
        return self._dir

    def pair(self, key: RSAKey) -> tuple[str, str]:
        """(private key file, certificate file) of `key`, written on first use."""
        stem = hashlib.sha256(f"{key.kid}:{self.common_name}".encode()).hexdigest()[:24]
        key_file, cert_file = self._folder() / f"{stem}.key", self._folder() / f"{stem}.crt"
        if not cert_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(key.as_pem(private=True))
            cert = certificate(key, self.common_name)
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return str(key_file), str(cert_file)

    def certificate(self, pem: str) -> str:
        """A file holding the certificate `pem` (a provider's), written on first use."""
        cert_file = self._folder() / f"{hashlib.sha256(pem.encode()).hexdigest()[:24]}.pem"
        if not cert_file.exists():
            cert_file.write_text(pem)
        return str(cert_file)

    def remove(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
