"""The storage engine: a document's chunks encrypted, erasure coded and spread over the
locations, and read back from any k of them.

CPU work (AES-GCM, erasure coding) runs in a worker thread so the event loop keeps feeding
the scanner and the other uploads; memory holds one chunk per upload, whatever its size.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from kluis.errors import Unavailable
from kluis.text import N_
from vault.interfaces import BlockingReads, FragmentMissing, FragmentWriter, StorageLocation
from vault.storage import crypto, fragments
from vault.storage.fragments import HEADER, Layout


class StorageUnavailable(Unavailable):
    default_type = "storage-unavailable"
    default_message = N_("Your document cannot be stored right now. Please try again later.")


class DocumentUnreadable(Unavailable):
    default_type = "document-unavailable"
    default_message = N_("This document cannot be read right now. Please try again later.")


READ_AHEAD = 4  # chunks fetched ahead of the one being sent


@dataclass(frozen=True)
class Manifest:
    """Where a document's fragments are and how they are cut. Stored with the document."""

    k: int
    n: int
    chunk_bytes: int
    chunk_count: int
    size: int

    @property
    def layout(self) -> Layout:
        return Layout(self.k, self.n, self.chunk_bytes, self.chunk_bytes + crypto.TAG)


def fragment_key(document_id: uuid.UUID, index: int) -> str:
    return f"{document_id.hex}.{index}"


class DocumentWriter:
    def __init__(self, engine: StorageEngine, document_id: uuid.UUID, data_key: bytes) -> None:
        self.engine = engine
        self.document_id = document_id
        self.data_key = data_key
        self.layout = engine.layout
        self.writers: list[FragmentWriter] = []
        self.chunks = 0
        self.size = 0

    async def open(self) -> None:
        try:
            for i, location in enumerate(self.engine.locations):
                writer = await location.create(fragment_key(self.document_id, i))
                self.writers.append(writer)
                await writer.write(fragments.header(self.document_id, i, self.layout))
        except OSError as exc:
            await self.abort()
            raise StorageUnavailable() from exc

    def _seal(self, index: int, last: bool, data: bytes) -> list[bytes]:
        encrypted = crypto.encrypt_chunk(self.data_key, self.document_id, index, last, data)
        return fragments.encode(self.layout, encrypted)

    async def write(self, data: bytes, *, last: bool) -> None:
        blocks = await asyncio.to_thread(self._seal, self.chunks, last, data)
        try:
            await asyncio.gather(*(w.write(b) for w, b in zip(self.writers, blocks, strict=True)))
        except OSError as exc:  # a location full, read-only or gone
            raise StorageUnavailable() from exc
        self.chunks += 1
        self.size += len(data)

    async def flush(self) -> None:
        try:
            await asyncio.gather(*(w.flush() for w in self.writers))
        except OSError as exc:
            raise StorageUnavailable() from exc

    async def commit(self) -> Manifest:
        try:
            await asyncio.gather(*(w.commit() for w in self.writers))
        except OSError as exc:
            await self.engine.delete(self.document_id)
            raise StorageUnavailable() from exc
        layout = self.layout
        return Manifest(layout.k, layout.n, layout.chunk_bytes, self.chunks, self.size)

    async def abort(self) -> None:
        await asyncio.gather(*(w.abort() for w in self.writers), return_exceptions=True)


class StorageEngine:
    def __init__(self, locations: Sequence[StorageLocation], k: int, chunk_bytes: int) -> None:
        self.locations = list(locations)
        self.layout = Layout(k, len(self.locations), chunk_bytes, chunk_bytes + crypto.TAG)
        self.reads_here = all(isinstance(location, BlockingReads) for location in self.locations)

    async def close(self) -> None:
        await asyncio.gather(*(location.close() for location in self.locations))

    async def writer(self, document_id: uuid.UUID, data_key: bytes) -> DocumentWriter:
        writer = DocumentWriter(self, document_id, data_key)
        await writer.open()
        return writer

    async def delete(self, document_id: uuid.UUID) -> None:
        await asyncio.gather(
            *(
                location.delete(fragment_key(document_id, i))
                for i, location in enumerate(self.locations)
            ),
            return_exceptions=True,
        )

    async def header_holds(self, manifest: Manifest, document_id: uuid.UUID, fragment: int) -> bool:
        """Whether fragment `fragment` says it is that fragment of that document."""
        expected = fragments.header(document_id, fragment, manifest.layout)
        try:
            found = await self.locations[fragment].read(
                fragment_key(document_id, fragment), 0, len(expected)
            )
        except FragmentMissing:
            return False
        return found == expected

    async def block(
        self, manifest: Manifest, document_id: uuid.UUID, fragment: int, index: int
    ) -> tuple[int, bytes] | None:
        """Fragment `fragment`'s block of chunk `index`: (encrypted length, share), or None
        if it is missing or fails its checksum."""
        layout = manifest.layout
        length = self._encrypted_length(manifest, index)
        try:
            block = await self.locations[fragment].read(
                fragment_key(document_id, fragment),
                layout.block_offset(index),
                layout.block_size(length),
            )
        except FragmentMissing:
            return None
        parsed = await asyncio.to_thread(fragments.parse_block, block)  # SHA-256 of 0.5 MiB
        if parsed is None or parsed[0] != length:
            return None
        return parsed

    def _encrypted_length(self, manifest: Manifest, index: int) -> int:
        if index == manifest.chunk_count - 1:
            return manifest.size - index * manifest.chunk_bytes + crypto.TAG
        return manifest.layout.encrypted_bytes

    async def read_chunk(
        self, manifest: Manifest, document_id: uuid.UUID, data_key: bytes, index: int
    ) -> bytes:
        """One plaintext chunk. First the quick way: the first k fragments' blocks,
        decoded and decrypted without checking each share — the GCM tag authenticates the
        whole chunk. From local disks that is one worker-thread call per chunk. Only if it
        fails is each share checked and the other fragments asked."""
        length = self._encrypted_length(manifest, index)
        layout = manifest.layout
        offset, size = layout.block_offset(index), layout.block_size(length)
        sources = [(self.locations[i], fragment_key(document_id, i)) for i in range(manifest.k)]
        last = index == manifest.chunk_count - 1

        def open_blocks(blocks: Sequence[bytes]) -> bytes:
            if any(len(block) != size for block in blocks):
                raise fragments.Unrecoverable("short block")
            shares = {i: block[fragments.BLOCK_HEADER.size :] for i, block in enumerate(blocks)}
            return self._open(manifest, document_id, data_key, index, last, length, shares)

        def read_here() -> bytes:
            return open_blocks(
                [location.read_now(key, offset, size) for location, key in sources]  # type: ignore[attr-defined]
            )

        try:
            if self.reads_here:
                return await asyncio.to_thread(read_here)
            blocks = await asyncio.gather(
                *(location.read(key, offset, size) for location, key in sources)
            )
            return await asyncio.to_thread(open_blocks, blocks)
        except (FragmentMissing, InvalidTag, fragments.Unrecoverable):
            return await self._read_chunk_carefully(manifest, document_id, data_key, index)

    async def _read_chunk_carefully(
        self, manifest: Manifest, document_id: uuid.UUID, data_key: bytes, index: int
    ) -> bytes:
        """From the first k fragments whose shares pass their checksums and together pass
        the GCM tag: shares can look sound and still be wrong (one fragment's file holding
        another's), so every combination is tried before the chunk is given up."""
        last = index == manifest.chunk_count - 1
        shares: dict[int, bytes] = {}
        tried: set[tuple[int, ...]] = set()
        length = 0
        order = list(range(manifest.n))
        # Ask k locations at once; ask the others only when that is not enough.
        for batch in (order[: manifest.k], order[manifest.k :]):
            found = await asyncio.gather(
                *(self.block(manifest, document_id, i, index) for i in batch)
            )
            for i, block in zip(batch, found, strict=True):
                if block is not None:
                    length, shares[i] = block
            for combination in itertools.combinations(sorted(shares), manifest.k):
                if combination in tried:
                    continue
                tried.add(combination)
                subset = {i: shares[i] for i in combination}
                try:
                    return await asyncio.to_thread(
                        self._open, manifest, document_id, data_key, index, last, length, subset
                    )
                except (InvalidTag, fragments.Unrecoverable):
                    continue
        raise DocumentUnreadable()

    @staticmethod
    def _open(
        manifest: Manifest,
        document_id: uuid.UUID,
        data_key: bytes,
        index: int,
        last: bool,
        length: int,
        shares: dict[int, bytes],
    ) -> bytes:
        encrypted = fragments.decode(manifest.layout, length, shares)
        return crypto.decrypt_chunk(data_key, document_id, index, last, encrypted)

    async def read(
        self,
        manifest: Manifest,
        document_id: uuid.UUID,
        data_key: bytes,
        start: int = 0,
        end: int | None = None,
    ) -> AsyncIterator[bytes]:
        """The plaintext bytes [start, end], decrypted chunk by chunk, with a few chunks
        fetched ahead while the current one is sent."""
        end = manifest.size - 1 if end is None else end
        if manifest.size == 0 or start > end:
            return
        first, final = start // manifest.chunk_bytes, end // manifest.chunk_bytes
        upcoming = iter(range(first, final + 1))
        ahead: collections.deque[asyncio.Future[bytes]] = collections.deque()

        def fetch_more() -> None:
            while len(ahead) < READ_AHEAD and (index := next(upcoming, None)) is not None:
                ahead.append(
                    asyncio.ensure_future(self.read_chunk(manifest, document_id, data_key, index))
                )

        try:
            for index in range(first, final + 1):
                fetch_more()
                chunk = await ahead.popleft()
                offset = index * manifest.chunk_bytes
                yield chunk[max(start - offset, 0) : end - offset + 1]
        finally:
            for pending in ahead:
                pending.cancel()


__all__ = ["HEADER", "DocumentUnreadable", "Manifest", "StorageEngine", "StorageUnavailable"]
