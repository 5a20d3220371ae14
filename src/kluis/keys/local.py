"""Keys kept in one JSON file, created on first run with mode 0600. For development and tests.

Production refuses it unless `allow_local_key_file` says otherwise: the keys sit on a disk,
readable by whoever reads the file. `kluis keys rotate` adds a master key to the file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kluis.errors import ConfigurationError
from kluis.keys.base import (
    CURRENT_KEY_RECHECK_SECONDS,
    NONCE_BYTES,
    KeyInfo,
    join_sealed,
    split_sealed,
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _number(key_id: str) -> int:
    return int(key_id.removeprefix("k"))


class LocalKeyFile:
    """The key provider on a local file.

    The blind-index key and the root secret never rotate: every stored index would have to
    be recomputed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._created = False
        if not path.exists():
            self._create(path)
            self._created = True
        self._load()

    def _load(self) -> None:
        stat = self.path.stat()
        mode = stat.st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(
                f"key file {self.path} must not be readable by others ({mode:o})"
            )
        data = json.loads(self.path.read_text())
        self._current: str = data["current"]
        self._masters = {k: base64.b64decode(v) for k, v in data["master_keys"].items()}
        self._index_key = base64.b64decode(data["index_key"])
        self._root_secret = base64.b64decode(data["root_secret"])
        self._loaded = (stat.st_mtime_ns, stat.st_ino)
        self._checked_at = time.monotonic()

    @staticmethod
    def _create(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "current": "k1",
            "master_keys": {"k1": _b64(AESGCM.generate_key(256))},
            "index_key": _b64(secrets.token_bytes(32)),
            "root_secret": _b64(secrets.token_bytes(32)),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)

    def _write(self, data: dict[str, Any]) -> None:
        """Replace the file as a whole: a crash leaves the old file or the new, never half."""
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        try:
            with os.fdopen(fd, "w") as f:  # mkstemp creates it with mode 0600
                json.dump(data, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    # -- the kernel's Protocol ----------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        if time.monotonic() - self._checked_at > CURRENT_KEY_RECHECK_SECONDS:
            stat = self.path.stat()
            if (stat.st_mtime_ns, stat.st_ino) != self._loaded:
                self._load()  # rotated by `kluis keys rotate` in another process
            self._checked_at = time.monotonic()
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = AESGCM(self._masters[self._current]).encrypt(nonce, plaintext, aad)
        return join_sealed(self._current, nonce, ciphertext)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        key_id, nonce, ciphertext = split_sealed(sealed)
        if key_id not in self._masters:
            self._load()  # rotated by `kluis keys rotate` since this process started
        key = self._masters.get(key_id)
        if key is None:
            raise ConfigurationError(f"unknown master key {key_id!r}")
        return AESGCM(key).decrypt(nonce, ciphertext, aad)

    def blind_index(self, purpose: str, value: str) -> str:
        return hmac.new(self._index_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def derive_secret(self, purpose: str) -> bytes:
        return hmac.new(self._root_secret, purpose.encode(), hashlib.sha256).digest()

    # -- the operator's commands --------------------------------------------------------

    @property
    def current_key_id(self) -> str:
        return self._current

    def describe(self) -> list[KeyInfo]:
        masters = [
            KeyInfo("master", f"master_keys.{key_id}", key_id, key_id == self._current)
            for key_id in sorted(self._masters, key=_number)
        ]
        return [*masters, KeyInfo("index", "index_key", ""), KeyInfo("root", "root_secret", "")]

    def create_missing(self) -> list[KeyInfo]:
        # The file is made whole on first use; it only ever lacks keys if it was never made.
        created, self._created = self._created, False
        return self.describe() if created else []

    def rotate(self) -> KeyInfo:
        self._load()
        data = json.loads(self.path.read_text())
        key_id = f"k{max(map(_number, self._masters)) + 1}"
        data["master_keys"][key_id] = _b64(AESGCM.generate_key(256))
        data["current"] = key_id
        self._write(data)
        self._load()
        return KeyInfo("master", f"master_keys.{key_id}", key_id, True)
