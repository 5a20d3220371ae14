"""Streaming helpers for uploads: re-cutting a request body into chunks, and pipeline
stages that work through a bounded queue of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any


async def chunks(
    body: AsyncIterator[bytes], size: int
) -> AsyncIterator[tuple[memoryview | bytes, bool]]:
    """Re-cut the request body into chunks of `size`, each told whether it is the last.

    The pieces are joined once and the chunks are views into the result: one copy per
    byte, where growing and trimming a buffer would make three.
    """
    parts: list[bytes] = []
    have = 0
    pending: memoryview | bytes | None = None
    async for piece in body:
        parts.append(piece)
        have += len(piece)
        if have < size:
            continue
        joined = memoryview(b"".join(parts))
        whole = have - have % size
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


class Stage:
    """One stage of the upload pipeline: a task working through a small queue of chunks.

    The body keeps streaming in while earlier chunks are still on their way to clamd or to
    the fragments; the queue bounds how far ahead it may run (memory stays flat). A
    failure is kept and reported to the producer, and the queue is still drained.
    """

    DEPTH = 4

    def __init__(self, work: Callable[[Any], Awaitable[None]]) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(self.DEPTH)
        self.work = work
        self.error: BaseException | None = None
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while (item := await self.queue.get()) is not None:
            if self.error is None:
                try:
                    await self.work(item)
                except Exception as exc:  # reported to the producer
                    self.error = exc

    async def put(self, item: Any) -> None:
        await self.queue.put(item)

    async def finish(self) -> None:
        await self.queue.put(None)
        await self.task

    def cancel(self) -> None:
        self.task.cancel()
