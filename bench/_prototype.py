"""A PROTOTYPE of the upload fix proposed in docs/benchmarks.md, to measure it — not the
product's code, and not reviewed as such (src/ is unchanged; this replaces
`Documents._stream` in the benchmark's own server process only, see `_traced_server.py`).

What it changes against `vault.services`:
1. Pipelining instead of lock-step: the request body keeps being read while earlier chunks
   are still on their way to clamd and to the fragments. Two tasks (clamd feeder, writer)
   take chunks from small bounded queues (4 chunks: memory stays flat).
2. One copy to re-cut the body into 1 MiB chunks (`b"".join` + memoryview slices) instead
   of `bytearray +=`, slice, `bytes()` and `del buffer[:n]` (three copies per byte).
3. The plaintext SHA-256 runs in a worker thread (hashlib releases the GIL), not on the
   event loop.
4. The fragments are flushed and fsync'ed while clamd scans (clamd only scans after the
   last byte): the commit that follows finds nothing left to sync.

And for downloads (`StorageEngine.read_chunk` / `read`):
5. A chunk is read from the k local fragments, decoded and decrypted in ONE worker-thread
   call, without SHA-256 of each share: the GCM tag already authenticates the whole chunk.
   Only when that fails (a missing, short or corrupted share: InvalidTag) does the
   product's own path run, which checks every share's checksum and uses the others.
6. Four chunks are fetched ahead instead of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

from kluis.errors import Invalid
from vault import services
from vault.domain import SNIFF_BYTES, UnscannableContent, check_content
from vault.scanner import ScanStopped
from vault.storage import crypto, engine, fragments
from vault.storage.locations import LocalDirectory

DEPTH = 4


async def _chunks(body: AsyncIterator[bytes], size: int) -> AsyncIterator[tuple[Any, bool]]:
    parts: list[bytes] = []
    have = 0
    pending: Any = None
    async for piece in body:
        parts.append(piece)
        have += len(piece)
        if have < size:
            continue
        joined = memoryview(b"".join(parts))
        whole = have // size * size
        for start in range(0, whole, size):
            if pending is not None:
                yield pending, False
            pending = joined[start : start + size]
        rest = bytes(joined[whole:])
        parts, have = ([rest], len(rest)) if rest else ([], 0)
    if have:
        if pending is not None:
            yield pending, False
        pending = b"".join(parts)
    if pending is not None:
        yield pending, True


class _Feeder:
    """A task taking items from a bounded queue; a failure is kept, the queue still drained."""

    def __init__(self, work: Any) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(DEPTH)
        self.work = work
        self.error: BaseException | None = None
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while (item := await self.queue.get()) is not None:
            if self.error is None:
                try:
                    await self.work(item)
                except Exception as exc:
                    self.error = exc

    async def finish(self) -> None:
        await self.queue.put(None)
        await self.task


async def _presync(writer: Any) -> None:
    def sync(f: Any) -> None:
        f.flush()
        os.fsync(f.fileno())

    files = [w.file for w in writer.writers if hasattr(w, "file")]
    await asyncio.gather(*(asyncio.to_thread(sync, f) for f in files))


async def _stream(
    self: Any, body: Any, ext: str, used: int, limit: int, scan: Any, writer: Any
) -> tuple[str, str]:
    digest = hashlib.sha256()
    media_type: str | None = None
    size = 0

    async def to_clamd(chunk: Any) -> None:
        await scan.send(chunk)

    async def to_fragments(item: tuple[Any, bool]) -> None:
        chunk, last = item
        await asyncio.gather(
            asyncio.to_thread(digest.update, chunk), writer.write(chunk, last=last)
        )

    scanner, storer = _Feeder(to_clamd), _Feeder(to_fragments)
    try:
        async for chunk, last in _chunks(body, self.engine.layout.chunk_bytes):
            if media_type is None:
                media_type = check_content(ext, bytes(chunk[:SNIFF_BYTES]))
            size += len(chunk)
            if size > limit:
                raise services.FileTooLarge()
            if used + size > self.quota:
                raise services.QuotaExceeded()
            if storer.error is not None:
                raise storer.error
            if isinstance(scanner.error, ScanStopped):
                break  # clamd stopped reading: its verdict says why
            if scanner.error is not None:
                raise scanner.error
            await scanner.queue.put(chunk)
            await storer.queue.put((chunk, last))
        await scanner.finish()
        await storer.finish()
    except BaseException:
        for feeder in (scanner, storer):
            feeder.task.cancel()
        raise
    if storer.error is not None:
        raise storer.error
    if scanner.error is not None and not isinstance(scanner.error, ScanStopped):
        raise scanner.error
    if media_type is None:
        raise Invalid("This file is empty.", type="empty-file")
    verdict, _synced = await asyncio.gather(scan.verdict(), _presync(writer))
    if verdict.unscannable:
        raise UnscannableContent()
    if not verdict.clean:
        raise services.MalwareFound(params={"signature": verdict.signature or "?"})
    return digest.hexdigest(), media_type


original_read_chunk = engine.StorageEngine.read_chunk
AHEAD = 4


def _read_chunk_at_once(
    self: Any, manifest: Any, document_id: Any, data_key: bytes, index: int
) -> bytes:
    layout = manifest.layout
    last = index == manifest.chunk_count - 1
    length = (
        manifest.size - index * manifest.chunk_bytes + crypto.TAG
        if last
        else layout.encrypted_bytes
    )
    shares = {}
    for i in range(manifest.k):
        path = self.locations[i]._path(engine.fragment_key(document_id, i))
        with open(path, "rb") as f:
            f.seek(layout.block_offset(index))
            block = f.read(layout.block_size(length))
        stored, _checksum = fragments.BLOCK_HEADER.unpack_from(block)
        if stored != length or len(block) != layout.block_size(length):
            raise ValueError("short or inconsistent block")
        shares[i] = block[fragments.BLOCK_HEADER.size :]
    encrypted = fragments.decode(layout, length, shares)
    return crypto.decrypt_chunk(data_key, document_id, index, last, encrypted)


async def read_chunk(
    self: Any, manifest: Any, document_id: Any, data_key: bytes, index: int
) -> bytes:
    if all(isinstance(loc, LocalDirectory) for loc in self.locations[: manifest.k]):
        with contextlib.suppress(Exception):  # a missing, short or corrupted share:
            return await asyncio.to_thread(  # the product's careful path decides
                _read_chunk_at_once, self, manifest, document_id, data_key, index
            )
    return await original_read_chunk(self, manifest, document_id, data_key, index)


async def read(
    self: Any,
    manifest: Any,
    document_id: Any,
    data_key: bytes,
    start: int = 0,
    end: int | None = None,
) -> AsyncIterator[bytes]:
    end = manifest.size - 1 if end is None else end
    if manifest.size == 0 or start > end:
        return
    first, final = start // manifest.chunk_bytes, end // manifest.chunk_bytes
    ahead: list[asyncio.Future[bytes]] = []
    following = first
    try:
        for index in range(first, final + 1):
            while following <= final and len(ahead) < AHEAD:
                ahead.append(
                    asyncio.ensure_future(
                        self.read_chunk(manifest, document_id, data_key, following)
                    )
                )
                following += 1
            chunk = await ahead.pop(0)
            offset = index * manifest.chunk_bytes
            yield chunk[max(start - offset, 0) : end - offset + 1]
    finally:
        for future in ahead:
            future.cancel()


def install() -> None:
    services.Documents._stream = _stream  # type: ignore[method-assign]
    engine.StorageEngine.read_chunk = read_chunk  # type: ignore[method-assign]
    engine.StorageEngine.read = read  # type: ignore[method-assign]
