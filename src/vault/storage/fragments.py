"""Erasure coding of encrypted chunks (zfec) and the fragment file layout.

Fragment i of a document holds share i of every chunk, in order: a header, then one block
per chunk — the encrypted chunk's length, the SHA-256 of the share, the share. Every block
of a document but the last has the same size, so block j is found without an index. Any k
of the n shares of a chunk rebuild it; a share whose checksum fails is not used.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass

import zfec

MAGIC = b"KLF1"
HEADER = struct.Struct(">4s16sBBBI")  # magic, document id, index, k, n, chunk bytes
BLOCK_HEADER = struct.Struct(">I32s")  # encrypted length, sha256(share)


@dataclass(frozen=True)
class Layout:
    k: int
    n: int
    chunk_bytes: int  # plaintext bytes per chunk
    encrypted_bytes: int  # chunk_bytes + the GCM tag

    def share_bytes(self, encrypted_length: int) -> int:
        return -(-encrypted_length // self.k)

    def block_offset(self, index: int) -> int:
        full = BLOCK_HEADER.size + self.share_bytes(self.encrypted_bytes)
        return HEADER.size + index * full

    def block_size(self, encrypted_length: int) -> int:
        return BLOCK_HEADER.size + self.share_bytes(encrypted_length)


def header(document_id: uuid.UUID, index: int, layout: Layout) -> bytes:
    return HEADER.pack(MAGIC, document_id.bytes, index, layout.k, layout.n, layout.chunk_bytes)


def encode(layout: Layout, encrypted: bytes) -> list[bytes]:
    """n blocks, one per fragment, for one encrypted chunk."""
    size = layout.share_bytes(len(encrypted))
    padded = encrypted.ljust(size * layout.k, b"\0")
    pieces = [padded[i * size : (i + 1) * size] for i in range(layout.k)]
    shares = zfec.Encoder(layout.k, layout.n).encode(pieces)
    return [
        BLOCK_HEADER.pack(len(encrypted), hashlib.sha256(share).digest()) + share
        for share in shares
    ]


def parse_block(block: bytes) -> tuple[int, bytes] | None:
    """(encrypted length, share) if the block is whole and its checksum holds, else None."""
    if len(block) < BLOCK_HEADER.size:
        return None
    length, digest = BLOCK_HEADER.unpack_from(block)
    share = block[BLOCK_HEADER.size :]
    if not share or hashlib.sha256(share).digest() != digest:
        return None
    return length, share


def decode(layout: Layout, length: int, shares: dict[int, bytes]) -> bytes:
    """The encrypted chunk from any k shares (fragment index -> share)."""
    indexes = sorted(shares)[: layout.k]
    pieces = zfec.Decoder(layout.k, layout.n).decode([shares[i] for i in indexes], indexes)
    return b"".join(pieces)[:length]
