"""The storage engine: a document's chunks encrypted, erasure coded and spread over the
locations, and read back from any k of them.

CPU work (AES-GCM, erasure coding) runs in a worker thread so the event loop keeps feeding
the scanner and the other uploads; memory holds one chunk per upload, whatever its size.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from kluis.errors import Unavailable
from kluis.text import N_
from vault.interfaces import BlockingReads, FragmentWriter, StorageLocation
from vault.storage import crypto, fragments
from vault.storage.fragments import HEADER, Layout
from vault.storage.reader import (
    DocumentReader,
    DocumentUnreadable,
    destroyed_key,
    fragment_key,
)

log = logging.getLogger(__name__)


class StorageUnavailable(Unavailable):
    default_type = "storage-unavailable"
    default_message = N_("Your document cannot be stored right now. Please try again later.")


@dataclass(frozen=True)
class Manifest:
    """Where a document's fragments are and how they are cut. Stored with the document."""

    k: int
    n: int
    chunk_bytes: int
    chunk_count: int
    size: int

    @functools.cached_property
    def layout(self) -> Layout:
        return Layout(self.k, self.n, self.chunk_bytes)


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
        self.layout = Layout(k, len(self.locations), chunk_bytes)
        self.reads_here = all(isinstance(location, BlockingReads) for location in self.locations)

    async def close(self) -> None:
        await asyncio.gather(*(location.close() for location in self.locations))

    async def writer(self, document_id: uuid.UUID, data_key: bytes) -> DocumentWriter:
        writer = DocumentWriter(self, document_id, data_key)
        await writer.open()
        return writer

    async def destroy(self, document_id: uuid.UUID) -> None:
        """Delete a committed document's fragments, leaving a marker (no content) at every
        location that says it was destroyed. The marker outlives any database backup: after a
        restore brings the document's row (and wrapped key) back, `kluis storage scrub
        --repair` finds the marker and destroys it again."""
        marked = await asyncio.gather(
            *(_mark_destroyed(location, document_id) for location in self.locations),
            return_exceptions=True,
        )
        for location, outcome in zip(self.locations, marked, strict=True):
            if isinstance(outcome, BaseException):
                # The destruction goes on (the key is gone already); without this marker a
                # restored backup is found only at the other locations. Scrub re-marks.
                log.warning("no destruction marker at %s: %r", location.name, outcome)
        await self.delete(document_id)

    async def destroyed(self, document_id: uuid.UUID) -> bool:
        """Whether any location holds the document's destruction marker. A location that
        does not answer says nothing: reading goes on from the others."""
        found = await asyncio.gather(
            *(location.modified(destroyed_key(document_id)) for location in self.locations),
            return_exceptions=True,
        )
        return any(isinstance(when, float | int) for when in found)

    async def delete(self, document_id: uuid.UUID) -> None:
        """Delete the fragments (an upload that did not commit, or after `destroy`'s mark)."""
        await asyncio.gather(
            *(
                location.delete(fragment_key(document_id, i))
                for i, location in enumerate(self.locations)
            ),
            return_exceptions=True,
        )

    def reader(
        self, manifest: Manifest, document_id: uuid.UUID, data_key: bytes | None = None
    ) -> DocumentReader:
        return DocumentReader(self, manifest, document_id, data_key)

    def read(
        self,
        manifest: Manifest,
        document_id: uuid.UUID,
        data_key: bytes,
        start: int = 0,
        end: int | None = None,
    ) -> AsyncIterator[bytes]:
        """The plaintext bytes [start, end], decrypted chunk by chunk (reader.py)."""
        return self.reader(manifest, document_id, data_key).read(start, end)


async def _mark_destroyed(location: StorageLocation, document_id: uuid.UUID) -> None:
    writer = await location.create(destroyed_key(document_id))
    await writer.commit()


__all__ = [
    "HEADER",
    "DocumentUnreadable",
    "Manifest",
    "StorageEngine",
    "StorageUnavailable",
    "fragment_key",
]
