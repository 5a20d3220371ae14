"""Per-chunk AES-256-GCM under a document's own data key.

The nonce is the chunk index: each data key encrypts one document once, so no (key, nonce)
pair repeats. The associated data binds the document id, the chunk index and whether the
chunk is the last, so chunks cannot be swapped between documents, reordered or cut off.
"""

from __future__ import annotations

import struct
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TAG = 16


def _nonce(index: int) -> bytes:
    return struct.pack(">4xQ", index)


def _aad(document_id: uuid.UUID, index: int, last: bool) -> bytes:
    return b"kluis-chunk" + document_id.bytes + struct.pack(">Q?", index, last)


def new_data_key() -> bytes:
    return AESGCM.generate_key(256)


def encrypt_chunk(key: bytes, document_id: uuid.UUID, index: int, last: bool, data: bytes) -> bytes:
    return AESGCM(key).encrypt(_nonce(index), data, _aad(document_id, index, last))


def decrypt_chunk(key: bytes, document_id: uuid.UUID, index: int, last: bool, data: bytes) -> bytes:
    """Raises `cryptography.exceptions.InvalidTag` if anything about the chunk is wrong."""
    return AESGCM(key).decrypt(_nonce(index), data, _aad(document_id, index, last))
