"""The upload pipeline: the body streams once through sniffing, clamd and the storage
engine, in stages that overlap, with memory bounded by their queues."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

from kluis.errors import Invalid
from vault.domain import (
    SNIFF_BYTES,
    FileTooLarge,
    MalwareFound,
    QuotaExceeded,
    UnscannableContent,
    check_content,
)
from vault.interfaces import ScanSession, Verdict
from vault.scanner import ScanStopped
from vault.storage import DocumentWriter
from vault.streaming import Stage, chunks


async def scan_and_store(
    body: AsyncIterator[bytes],
    ext: str,
    room: int,
    limit: int,
    scan: ScanSession,
    writer: DocumentWriter,
    chunk_bytes: int,
) -> tuple[str, str]:
    """One pass over an upload: sniffed, counted against its limits, teed into clamd and
    into the encrypted fragments, hashed; (SHA-256, media type) once clamd calls it clean."""
    digest = hashlib.sha256()
    media_type: str | None = None
    size = 0

    async def store(item: tuple[memoryview | bytes, bool]) -> None:
        chunk, last = item
        # hashlib lets go of the GIL: the hash runs beside the encryption.
        await asyncio.gather(
            asyncio.to_thread(digest.update, chunk), writer.write(chunk, last=last)
        )

    scanning, storing = Stage(scan.send), Stage(store)
    try:
        async for chunk, last in chunks(body, chunk_bytes):
            if media_type is None:
                media_type = check_content(ext, bytes(chunk[:SNIFF_BYTES]))
            size += len(chunk)
            if size > limit:
                raise FileTooLarge()
            if size > room:
                raise QuotaExceeded()
            if storing.error is not None:
                raise storing.error
            if isinstance(scanning.error, ScanStopped):
                break  # clamd stopped reading: its verdict says why
            if scanning.error is not None:
                raise scanning.error
            await scanning.put(chunk)
            await storing.put((chunk, last))
        await scanning.finish()
        await storing.finish()
    except BaseException:
        scanning.cancel()
        storing.cancel()
        raise
    if storing.error is not None:
        raise storing.error
    if scanning.error is not None and not isinstance(scanning.error, ScanStopped):
        raise scanning.error
    if media_type is None:
        raise Invalid("This file is empty.", type="empty-file")
    # clamd scans only once it has the last byte: make the fragments durable meanwhile.
    verdict, flushed = await asyncio.gather(scan.verdict(), writer.flush(), return_exceptions=True)
    for outcome in (verdict, flushed):
        if isinstance(outcome, BaseException):
            raise outcome
    assert isinstance(verdict, Verdict)
    if verdict.unscannable:
        raise UnscannableContent()
    if not verdict.clean:
        raise MalwareFound(params={"signature": verdict.signature or "?"})
    return digest.hexdigest(), media_type
