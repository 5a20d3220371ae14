"""What one 1 MiB chunk of an upload costs the server's CPU, stage by stage, using the
project's own functions — with glibc's default allocator settings and with tunables that
keep freed memory for reuse (fresh memory costs a page fault per 4 KiB).

    .venv/bin/python bench/chunk_costs.py

Runs itself twice in child processes: once as is, once with MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_ and MALLOC_TOP_PAD_ set. Each cost is the median of 5 x 200 calls,
in a realistic sequence (a new chunk every call, results dropped as the server drops them).
"""

from __future__ import annotations

import asyncio
import hashlib
import mmap
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable

TUNABLES = {
    "MALLOC_MMAP_THRESHOLD_": str(32 * 1024**2),
    "MALLOC_TRIM_THRESHOLD_": str(1024**3),
    "MALLOC_TOP_PAD_": str(64 * 1024**2),
}
MiB = 1024**2


def per_call(work: Callable[[int], object], calls: int = 200, runs: int = 5) -> float:
    """Median microseconds per call."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for i in range(calls):
            work(i)
        timings.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(timings)


def page_fault_us() -> float:
    timings = []
    for _ in range(3):
        area = mmap.mmap(-1, 64 * MiB)
        started = time.perf_counter()
        for offset in range(0, 64 * MiB, 4096):
            area[offset] = 1
        timings.append((time.perf_counter() - started) / (64 * MiB // 4096) * 1e6)
        area.close()
    return statistics.median(timings)


def child() -> None:
    from vault import services
    from vault.storage import crypto, fragments
    from vault.storage.fragments import Layout

    recut_body = services.chunks
    layout = Layout(2, 3, MiB)
    key, document = crypto.new_data_key(), uuid.uuid4()
    chunks = [os.urandom(MiB) for _ in range(8)]
    sealed = [crypto.encrypt_chunk(key, document, 0, False, c) for c in chunks]

    def recut(i: int) -> None:
        async def body() -> AsyncIterator[bytes]:
            chunk = chunks[i % 8]
            for start in range(0, MiB, 256 * 1024):  # uvicorn hands the body over in pieces
                yield chunk[start : start + 256 * 1024]

        async def drain() -> None:
            async for _chunk in recut_body(body(), MiB):
                pass

        asyncio.run(drain())

    def empty_loop(i: int) -> None:
        async def nothing() -> None:
            return None

        asyncio.run(nothing())

    rows = {
        "AES-256-GCM encrypt": per_call(
            lambda i: crypto.encrypt_chunk(key, document, i, False, chunks[i % 8])
        ),
        "SHA-256 of the plaintext": per_call(lambda i: hashlib.sha256(chunks[i % 8]).digest()),
        "fragments.encode (ISA-L 2-of-3 + CRC-32C of 3 shares)": per_call(
            lambda i: fragments.encode(layout, sealed[i % 8])
        ),
        "encrypt + fragments.encode (DocumentWriter._seal)": per_call(
            lambda i: fragments.encode(
                layout, crypto.encrypt_chunk(key, document, i, False, chunks[i % 8])
            )
        ),
        "re-cutting the body (streaming.chunks): 4 x 256 KiB -> 1 chunk": per_call(recut, calls=100)
        - per_call(empty_loop, calls=100),
    }
    for name, us in rows.items():
        print(f"{name}\t{us:.0f}")
    print(f"one page fault (4 KiB of fresh memory)\t{page_fault_us():.2f}")


def main() -> None:
    if "--child" in sys.argv:
        child()
        return
    import _common as c

    c.print_header("CPU cost of one 1 MiB upload chunk, per stage")
    results: dict[str, dict[str, str]] = {}
    for mode, extra in (("glibc defaults", {}), ("malloc tunables", TUNABLES)):
        out = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--child"],
            env={**os.environ, **extra},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            if "\t" in line:
                name, value = line.split("\t")
                results.setdefault(name, {})[mode] = value
    print("tunables: " + " ".join(f"{k}={v}" for k, v in TUNABLES.items()))
    print()
    print("| stage, per 1 MiB chunk | µs, glibc defaults | µs, malloc tunables |")
    print("|---|---:|---:|")
    for name, values in results.items():
        print(f"| {name} | {values.get('glibc defaults')} | {values.get('malloc tunables')} |")


if __name__ == "__main__":
    main()
