"""What every key provider offers: the kernel's Protocol, and the operator's view of the keys.

A sealed value is `key id ‖ 0x00 ‖ 12-byte nonce ‖ AES-256-GCM ciphertext and tag`. The key
id names the master key that sealed it, so master keys can rotate: the newest seals, every
older one keeps opening what it sealed. The blind-index key and the root secret never rotate:
every stored index and every derived secret would change.
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

import msgspec
from cryptography.exceptions import InvalidTag

NONCE_BYTES = 12
TAG_BYTES = 16
# How long a process seals under the master key it knows before it looks for a newer one
# (`kluis keys rotate` in another process). Opening never waits: an unknown key is looked up.
CURRENT_KEY_RECHECK_SECONDS = 60.0

KeyKind = Literal["master", "index", "root"]
MASTER_KEY_ID = re.compile(r"k([1-9][0-9]*)")


class KeyProvider(Protocol):
    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt a small value (a data key, an NRN, a private key) under the current key."""
        ...

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Decrypt what `seal` produced, with whichever master key sealed it.

        Raises `cryptography.exceptions.InvalidTag` when the value or its associated data
        is not what was sealed, `ConfigurationError` when the master key it names is gone.
        """
        ...

    def blind_index(self, purpose: str, value: str) -> str:
        """A keyed hash for look-ups of personal data without storing it in clear."""
        ...

    def derive_secret(self, purpose: str) -> bytes:
        """A stable 32-byte secret for a named purpose (CSRF signing, link signing)."""
        ...


class KeyInfo(msgspec.Struct, frozen=True):
    """One key as an operator may see it: where it lives and what it is for, never its value."""

    kind: KeyKind
    label: str  # the token object's label, or the key's place in the key file
    key_id: str  # a master key's id as sealed values carry it; empty for the others
    current: bool = False


class ManagedKeys(KeyProvider, Protocol):
    """A key provider an operator can set up and rotate (`kluis keys …`)."""

    def describe(self) -> list[KeyInfo]:
        """Every key of the platform, master keys oldest first."""
        ...

    def create_missing(self) -> list[KeyInfo]:
        """Create whichever keys do not exist yet (none if all do); returns those created."""
        ...

    def rotate(self) -> KeyInfo:
        """Create a new master key and make it current; older ones stay for opening."""
        ...

    @property
    def current_key_id(self) -> str: ...


def split_sealed(sealed: bytes) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext with tag) of a sealed value; `InvalidTag` if it has not
    the shape of one."""
    key_id, separator, rest = sealed.partition(b"\x00")
    name = key_id.decode("ascii", "replace")
    if not separator or not MASTER_KEY_ID.fullmatch(name) or len(rest) < NONCE_BYTES + TAG_BYTES:
        raise InvalidTag
    return name, rest[:NONCE_BYTES], rest[NONCE_BYTES:]


def join_sealed(key_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
    return key_id.encode("ascii") + b"\x00" + nonce + ciphertext
