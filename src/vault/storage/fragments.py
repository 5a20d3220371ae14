"""Erasure coding of encrypted chunks and the fragment file layout.

The code is Reed-Solomon from Intel's ISA-L through pyeclib (`isa_l_rs_cauchy`): it
encodes 5 to 10 times faster than zfec here and decodes with losses 5 to 11 times faster
(docs/benchmarks.md, "Erasure coding"). It is systematic: the first k shares are the chunk
itself, cut in k, so a read with every data share present costs a copy, not a decode.

Fragment i of a document holds share i of every chunk, in order: a header, then one block
per chunk — the encrypted chunk's length, the CRC-32C of the share, the share (pyeclib's
fragment, with its own small header). Every block of a document but the last has the same
size, so block j is found without an index. Any k of the n shares of a chunk rebuild it.

The checksum only has to find a damaged share: the chunk's GCM tag already authenticates
its content, and a read that fails the tag tries the other shares (engine.py). CRC-32C in
hardware costs a tenth of a SHA-256 here.
"""

from __future__ import annotations

import functools
import struct
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from crc32c import crc32c
from pyeclib.ec_iface import ECDriver, ECDriverError

from vault.storage.crypto import TAG

MAGIC = b"KLF2"
HEADER = struct.Struct(">4s16sBBBI")  # magic, document id, index, k, n, chunk bytes
BLOCK_HEADER = struct.Struct(">II")  # encrypted length, CRC-32C of the share
EC_TYPE = "isa_l_rs_cauchy"

_codecs = threading.local()


def _codec(k: int, n: int) -> ECDriver:
    # One driver per thread: liberasurecode does not promise that a descriptor may be used
    # from several threads at once, and creating one takes microseconds.
    drivers = _codecs.__dict__.setdefault("drivers", {})
    if (k, n) not in drivers:
        drivers[k, n] = ECDriver(k=k, m=n - k, ec_type=EC_TYPE)
    return drivers[k, n]


@functools.lru_cache(maxsize=16)
def _code_header(k: int, n: int) -> int | None:
    """The size of the erasure code's own header in front of each share, if a data share
    is that header and then the plain slice of the chunk (the code is systematic), found
    by encoding a probe; None if it is laid out otherwise."""
    probe = bytes(range(256)) * 5
    shares = _codec(k, n).encode(probe)
    piece = -(-len(probe) // k)
    header = len(shares[0]) - piece
    for i in range(k):
        expected = probe[i * piece : (i + 1) * piece]
        if header < 0 or shares[i][header : header + len(expected)] != expected:
            return None
    return header


@functools.lru_cache(maxsize=256)
def _share_bytes(k: int, n: int, encrypted_length: int) -> int:
    info = _codec(k, n).get_segment_info(encrypted_length, encrypted_length)
    return int(info["fragment_size"])


class Unrecoverable(ValueError):
    """The shares given do not make a chunk (too few, or not of the same chunk)."""


@dataclass(frozen=True)
class Layout:
    k: int
    n: int
    chunk_bytes: int  # plaintext bytes per chunk

    @property
    def encrypted_bytes(self) -> int:
        return self.chunk_bytes + TAG

    def share_bytes(self, encrypted_length: int) -> int:
        return _share_bytes(self.k, self.n, encrypted_length)

    def block_offset(self, index: int) -> int:
        return HEADER.size + index * self.block_size(self.encrypted_bytes)

    def block_size(self, encrypted_length: int) -> int:
        return BLOCK_HEADER.size + self.share_bytes(encrypted_length)

    def data_slice(self, encrypted_length: int) -> tuple[int, int] | None:
        """Where the chunk's own bytes sit in a data share's block, as (offset in the
        block, bytes): the k data shares' slices, joined, are the encrypted chunk (padded).
        Reads copy them straight into one buffer instead of decoding. None if the code
        does not lay them out that way."""
        header = _code_header(self.k, self.n)
        if header is None:
            return None
        return BLOCK_HEADER.size + header, -(-encrypted_length // self.k)


def header(document_id: uuid.UUID, index: int, layout: Layout) -> bytes:
    return HEADER.pack(MAGIC, document_id.bytes, index, layout.k, layout.n, layout.chunk_bytes)


def encode(layout: Layout, encrypted: bytes) -> list[bytes]:
    """n blocks, one per fragment, for one encrypted chunk."""
    shares = _codec(layout.k, layout.n).encode(encrypted)
    return [BLOCK_HEADER.pack(len(encrypted), crc32c(share)) + share for share in shares]


def parse_block(block: bytes) -> tuple[int, bytes] | None:
    """(encrypted length, share) if the block is whole and its checksum holds, else None."""
    if len(block) < BLOCK_HEADER.size:
        return None
    length, checksum = BLOCK_HEADER.unpack_from(block)
    share = block[BLOCK_HEADER.size :]
    if not share or crc32c(share) != checksum:
        return None
    return length, share


def decode(layout: Layout, length: int, shares: Mapping[int, bytes]) -> bytes:
    """The encrypted chunk from any k shares (fragment index -> share). Raises
    `Unrecoverable` if they do not make one; the caller's GCM tag check proves the rest."""
    chosen = [shares[i] for i in sorted(shares)[: layout.k]]
    try:
        encrypted = _codec(layout.k, layout.n).decode(chosen)
    except ECDriverError as exc:
        raise Unrecoverable(str(exc)) from exc
    if len(encrypted) != length:
        raise Unrecoverable("decoded length differs from the block's")
    return encrypted
