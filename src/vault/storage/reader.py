"""Reading a document back: its chunks from any k fragments, decrypted, a few ahead.

First the quick way, trusting the GCM tag, which authenticates the whole chunk, to catch
any damage: from local disks, the k data shares' slices are copied straight into one
buffer and decrypted, in one worker-thread call per chunk; from other locations, the first
k blocks are fetched, decoded and decrypted. Only if that fails is each share checked
against its checksum and the other fragments asked.

Memory bandwidth, not the CPU, limits a download on small machines: the quick way makes
one copy out of the page cache and one pass of AES, where decoding would add two more
copies. What is decrypted is a new object each time, so the read buffer is reused.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import threading
import uuid
from collections.abc import AsyncIterator, Collection
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag

from kluis.errors import Unavailable
from kluis.text import N_
from vault.interfaces import FragmentMissing
from vault.storage import crypto, fragments

if TYPE_CHECKING:
    from vault.storage.engine import Manifest, StorageEngine


class DocumentUnreadable(Unavailable):
    default_type = "document-unavailable"
    default_message = N_("This document cannot be read right now. Please try again later.")


# Chunks are fetched in batches of about 2 MiB, three batches ahead of the one being sent:
# a hop to a worker thread costs 60-140 µs here, as much as reading half a chunk.
BATCH_BYTES = 2 * 1024**2
READ_AHEAD = 3
DAMAGE = (FragmentMissing, InvalidTag, fragments.Unrecoverable)

_scratches = threading.local()


def _scratch(size: int) -> memoryview:
    """This thread's buffer to read a chunk's shares into, reused from chunk to chunk."""
    buffer: bytearray | None = getattr(_scratches, "buffer", None)
    if buffer is None or len(buffer) < size:
        buffer = _scratches.buffer = bytearray(size)
    return memoryview(buffer)[:size]


def fragment_key(document_id: uuid.UUID, index: int) -> str:
    return f"{document_id.hex}.{index}"


DESTROYED = "destroyed"


def destroyed_key(document_id: uuid.UUID) -> str:
    """The marker a destroyed document leaves at each location (StorageEngine.destroy)."""
    return f"{document_id.hex}.{DESTROYED}"


class DocumentReader:
    """One document's chunks, with what reading them needs worked out once."""

    def __init__(
        self,
        engine: StorageEngine,
        manifest: Manifest,
        document_id: uuid.UUID,
        data_key: bytes | None = None,  # None: check fragments, never decrypt
    ) -> None:
        self.locations = engine.locations
        self.manifest = manifest
        self.layout = manifest.layout
        self.document_id = document_id
        self.data_key = data_key
        self.keys = [fragment_key(document_id, i) for i in range(manifest.n)]
        self.here = engine.reads_here and self.layout.data_slice(1) is not None

    def length(self, index: int) -> int:
        """The encrypted length of chunk `index`."""
        manifest = self.manifest
        if index == manifest.chunk_count - 1:
            return manifest.size - index * manifest.chunk_bytes + crypto.TAG
        return self.layout.encrypted_bytes

    def _decrypt(self, index: int, encrypted: bytes | memoryview) -> bytes:
        last = index == self.manifest.chunk_count - 1
        assert self.data_key is not None, "a reader made to check fragments cannot decrypt"
        return crypto.decrypt_chunk(self.data_key, self.document_id, index, last, encrypted)

    def _read_here(self, index: int) -> bytes:
        length = self.length(index)
        span = self.layout.data_slice(length)
        assert span is not None
        at, take = span
        offset = self.layout.block_offset(index) + at
        buffer = _scratch(take * self.layout.k)
        for i in range(self.layout.k):
            part = buffer[i * take : (i + 1) * take]
            if self.locations[i].read_into(self.keys[i], offset, part) != take:  # type: ignore[attr-defined]
                raise fragments.Unrecoverable("short block")
        return self._decrypt(index, buffer[:length])

    async def _read_blocks(self, index: int) -> bytes:
        length = self.length(index)
        offset, size = self.layout.block_offset(index), self.layout.block_size(length)
        k = self.layout.k
        blocks = await asyncio.gather(
            *(self.locations[i].read(self.keys[i], offset, size) for i in range(k))
        )
        if any(len(block) != size for block in blocks):
            raise fragments.Unrecoverable("short block")
        shares = {i: block[fragments.BLOCK_HEADER.size :] for i, block in enumerate(blocks)}
        _encrypted, plain = await asyncio.to_thread(self._open, index, length, shares)
        return plain

    def _open(self, index: int, length: int, shares: dict[int, bytes]) -> tuple[bytes, bytes]:
        """(encrypted chunk, plaintext) from k shares; raises if they do not make it."""
        encrypted = fragments.decode(self.layout, length, shares)
        return encrypted, self._decrypt(index, encrypted)

    def _fetch(self, indexes: range) -> asyncio.Future[list[bytes]]:
        if self.here:
            # run_in_executor rather than to_thread: no task and no context copy.
            return asyncio.get_running_loop().run_in_executor(
                None, lambda: [self._read_here(index) for index in indexes]
            )
        return asyncio.gather(*(self._read_blocks(index) for index in indexes))

    async def chunk(self, index: int) -> bytes:
        try:
            [chunk] = await self._fetch(range(index, index + 1))
            return chunk
        except DAMAGE:
            return await self.carefully(index)

    async def header_holds(self, fragment: int) -> bool:
        """Whether fragment `fragment` says it is that fragment of that document."""
        expected = fragments.header(self.document_id, fragment, self.layout)
        try:
            found = await self.locations[fragment].read(self.keys[fragment], 0, len(expected))
        except FragmentMissing:
            return False
        return found == expected

    async def block(self, fragment: int, index: int) -> tuple[int, bytes] | None:
        """Fragment `fragment`'s block of chunk `index`: (encrypted length, share), or None
        if it is missing or fails its checksum."""
        length = self.length(index)
        try:
            block = await self.locations[fragment].read(
                self.keys[fragment],
                self.layout.block_offset(index),
                self.layout.block_size(length),
            )
        except FragmentMissing:
            return None
        parsed = await asyncio.to_thread(fragments.parse_block, block)
        if parsed is None or parsed[0] != length:
            return None
        return parsed

    async def carefully(self, index: int) -> bytes:
        _encrypted, plain = await self.sound(index)
        return plain

    async def sound(self, index: int, avoid: Collection[int] = ()) -> tuple[bytes, bytes]:
        """Chunk `index`, encrypted and in plaintext, from the first k fragments (none of
        `avoid`) whose shares pass their checksums and together pass the GCM tag: shares
        can look sound and still be wrong (one fragment's file holding another's), so every
        combination is tried before the chunk is given up."""
        k, n = self.layout.k, self.layout.n
        shares: dict[int, bytes] = {}
        tried: set[tuple[int, ...]] = set()
        length = 0
        # Ask k locations at once; ask the others only when that is not enough.
        for batch in (range(k), range(k, n)):
            batch = [i for i in batch if i not in avoid]
            found = await asyncio.gather(*(self.block(i, index) for i in batch))
            for i, block in zip(batch, found, strict=True):
                if block is not None:
                    length, shares[i] = block
            for combination in itertools.combinations(sorted(shares), k):
                if combination in tried:
                    continue
                tried.add(combination)
                subset = {i: shares[i] for i in combination}
                try:
                    return await asyncio.to_thread(self._open, index, length, subset)
                except (InvalidTag, fragments.Unrecoverable):
                    continue
        raise DocumentUnreadable()

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The plaintext bytes [start, end], chunk by chunk, with a few chunks fetched
        ahead while the current one is sent."""
        manifest = self.manifest
        end = manifest.size - 1 if end is None else end
        if manifest.size == 0 or start > end:
            return
        first, final = start // manifest.chunk_bytes, end // manifest.chunk_bytes
        step = max(1, BATCH_BYTES // manifest.chunk_bytes)
        batches = (range(i, min(i + step, final + 1)) for i in range(first, final + 1, step))
        ahead: collections.deque[tuple[range, asyncio.Future[list[bytes]]]] = collections.deque()
        try:
            while True:
                while len(ahead) < READ_AHEAD and (batch := next(batches, None)) is not None:
                    ahead.append((batch, self._fetch(batch)))
                if not ahead:
                    break
                batch, pending = ahead.popleft()
                try:
                    chunks = await pending
                except DAMAGE:  # find out which chunk, and read it the careful way
                    chunks = [await self.chunk(index) for index in batch]
                for index, chunk in zip(batch, chunks, strict=True):
                    offset = index * manifest.chunk_bytes
                    yield chunk[max(start - offset, 0) : end - offset + 1]
        finally:
            for _batch, pending in ahead:
                pending.cancel()


__all__ = ["DocumentReader", "DocumentUnreadable", "fragment_key"]
