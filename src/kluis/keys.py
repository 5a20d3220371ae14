"""The key provider: wraps data keys, seals small fields, derives blind-index and secret keys.

Development uses a local key file created on first run with mode 0600. Production will use
a PKCS#11 HSM behind the same Protocol; the local file is refused there unless explicitly
allowed. Master keys carry ids so they can rotate: sealed values name the key that sealed
them, and old keys stay available for opening.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kluis.errors import ConfigurationError
from kluis.settings import Settings

_NONCE = 12


class KeyProvider(Protocol):
    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt a small value (a data key, an NRN, a private key) under the current key."""
        ...

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Decrypt what `seal` produced, with whichever master key sealed it."""
        ...

    def blind_index(self, purpose: str, value: str) -> str:
        """A keyed hash for look-ups of personal data without storing it in clear."""
        ...

    def derive_secret(self, purpose: str) -> bytes:
        """A stable 32-byte secret for a named purpose (CSRF signing, link signing)."""
        ...


class LocalKeyFile:
    """Keys kept in one JSON file. For development and tests only.

    The blind-index key never rotates: every stored index would have to be recomputed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self._create(path)
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(f"key file {path} must not be readable by others ({mode:o})")
        data = json.loads(path.read_text())
        self._current: str = data["current"]
        self._masters = {k: base64.b64decode(v) for k, v in data["master_keys"].items()}
        self._index_key = base64.b64decode(data["index_key"])
        self._root_secret = base64.b64decode(data["root_secret"])

    @staticmethod
    def _create(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "current": "k1",
            "master_keys": {"k1": base64.b64encode(AESGCM.generate_key(256)).decode()},
            "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            "root_secret": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        ct = AESGCM(self._masters[self._current]).encrypt(nonce, plaintext, aad)
        return self._current.encode() + b"\x00" + nonce + ct

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        key_id, _, rest = sealed.partition(b"\x00")
        key = self._masters.get(key_id.decode())
        if key is None:
            raise ConfigurationError(f"unknown master key {key_id!r}")
        return AESGCM(key).decrypt(rest[:_NONCE], rest[_NONCE:], aad)

    def blind_index(self, purpose: str, value: str) -> str:
        return hmac.new(self._index_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def derive_secret(self, purpose: str) -> bytes:
        return hmac.new(self._root_secret, purpose.encode(), hashlib.sha256).digest()


def key_provider_from(settings: Settings) -> KeyProvider:
    if settings.key_provider == "local-file":
        return LocalKeyFile(settings.path(settings.key_file))
    raise ConfigurationError(f"unknown key provider {settings.key_provider!r}")
