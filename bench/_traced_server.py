"""`kluis serve` with timers wrapped around the upload's stages (diagnosis only).

    KLUIS_BENCH_TRACE=/path/trace.jsonl .venv/bin/python bench/_traced_server.py

The project's code is not changed: its functions are wrapped at start-up, in this process
only. One JSON line per upload: seconds spent waiting for the request body, in the clamd
sends, in the encrypted writes (these three overlap: the upload is a pipeline), waiting for
the verdict after the last byte, committing the fragments (flush + fsync + rename) and recording the
row. `stream` is the time from the first to the last chunk; `total` the whole upload.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

from kluis import cli
from vault import scanner, services
from vault.storage import engine

TRACE = os.environ.get("KLUIS_BENCH_TRACE", "trace.jsonl")
current: dict[str, float] = defaultdict(float)


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            current[name] += time.perf_counter() - started
            current[name + "_calls"] += 1

    return wrapper


def traced(original_chunks: Callable[..., Any]) -> Callable[..., Any]:
    async def traced_chunks(body: AsyncIterator[bytes], size: int) -> AsyncIterator[Any]:
        async for item in _timed_chunks(original_chunks(body, size)):
            yield item

    return traced_chunks


async def _timed_chunks(chunks: Any) -> AsyncIterator[Any]:
    first = None
    while True:
        started = time.perf_counter()
        try:
            item = await chunks.__anext__()
        except StopAsyncIteration:
            break
        now = time.perf_counter()
        current["body_wait"] += now - started
        first = first or now
        current["stream"] = now - first
        yield item


def write_trace(stages: dict[str, float]) -> None:
    with open(TRACE, "a") as out:
        out.write(json.dumps({k: round(v, 4) for k, v in stages.items()}) + "\n")


original_upload = services.Documents.upload


async def traced_upload(self: Any, *args: Any, **kwargs: Any) -> Any:
    current.clear()
    started = time.perf_counter()
    try:
        return await original_upload(self, *args, **kwargs)
    finally:
        current["total"] = time.perf_counter() - started
        write_trace(dict(current))


def install() -> None:
    services.chunks = traced(services.chunks)
    services.Documents.upload = traced_upload
    services.Documents._record = timed("record", services.Documents._record)
    scanner.ClamdSession.send = timed("clamd_send", scanner.ClamdSession.send)
    scanner.ClamdSession.verdict = timed("verdict", scanner.ClamdSession.verdict)
    engine.DocumentWriter.write = timed("seal_and_write", engine.DocumentWriter.write)
    engine.DocumentWriter.commit = timed("commit", engine.DocumentWriter.commit)


if __name__ == "__main__":
    install()
    sys.argv = ["kluis", "serve"]
    cli.main()
