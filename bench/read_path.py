"""The download's read path without HTTP: one 256 MiB document read back through
`StorageEngine.read` (three local directories, 2-of-3), at several chunk sizes.

    .venv/bin/python bench/read_path.py [--size-mib 256] [--runs 3]

Tells the fixed cost of a chunk (worker-thread hops, bookkeeping) from its cost per byte
(copy out of the page cache, AES-GCM). docs/benchmarks.md, "Why the download still misses".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

from kluis.app import tune_malloc
from vault.storage import LocalDirectory, StorageEngine, crypto

MiB = 1024**2


async def measure(chunk: int, size: int, runs: int) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="kluis-read-") as root:
        engine = StorageEngine(
            [LocalDirectory(f"l{i}", Path(root) / f"l{i}") for i in range(3)], 2, chunk
        )
        document_id, key = uuid.uuid4(), crypto.new_data_key()
        writer = await engine.writer(document_id, key)
        data, count = os.urandom(chunk), size // chunk
        for i in range(count):
            await writer.write(data, last=i == count - 1)
        manifest = await writer.commit()
        out = []
        for _ in range(runs + 1):  # the first is a warm-up
            started, cpu = time.perf_counter(), time.process_time()
            async for _piece in engine.read(manifest, document_id, key):
                pass
            out.append((time.perf_counter() - started, time.process_time() - cpu))
        return out[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tune_malloc()  # as `kluis serve` does
    print("chunk      chunks  wall-s (each run)        cpu-s (each run)")
    for chunk in (MiB // 2, MiB, 4 * MiB):
        results = asyncio.run(measure(chunk, args.size_mib * MiB, args.runs))
        walls = " ".join(f"{w:.3f}" for w, _ in results)
        cpus = " ".join(f"{c:.3f}" for _, c in results)
        print(f"{chunk // 1024:>5} KiB  {args.size_mib * MiB // chunk:>6}  {walls:<24} {cpus}")


if __name__ == "__main__":
    main()
