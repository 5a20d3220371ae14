"""Server peak memory during a 1 GiB upload against its peak during a 64 MiB upload.

    .venv/bin/python bench/upload_memory.py [--runs 5] [--small-mib 64] [--large-mib 1024]

One project-local clamd; for every upload a fresh `kluis serve` process (its own database,
key file and locations), logged in through the development provider. While the file is
streamed to POST /api/v1/documents, the resident set of the server process and its children
is sampled every 50 ms (psutil); the kernel's own high-water marks (VmHWM) of the same
processes, added up, are read at the end as a cross-check.
Ratio = median peak (large) / median peak (small); target <= 1.2.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import _common as c

TARGET = 1.2


def vm_hwm(pid: int) -> int:
    """The kernel's high-water marks (VmHWM) of the server and its worker processes, added."""
    total = 0
    for process in c.process_tree(pid):
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total


async def measure(
    space: c.Workspace,
    clamd_url: str,
    limit: int,
    sample: Path,
    name: str,
    sha256: str,
) -> dict[str, float]:
    with c.server(space, clamd_url, limit, name=name) as kluis:
        client = await c.logged_in(kluis.url)
        try:
            sampler = c.PeakRss(kluis.pid, 0.05)
            idle = sampler.rss()
            with sampler:
                started = time.perf_counter()
                document = await c.upload(client, sample, sample.name)
                elapsed = time.perf_counter() - started
            if document["sha256"] != sha256:
                raise RuntimeError(f"stored something else: {document}")
            hwm = vm_hwm(kluis.pid)
            await c.delete(client, str(document["id"]))
        finally:
            await client.aclose()
    return {
        "idle": idle,
        "peak": sampler.peak,
        "hwm": hwm,
        "seconds": elapsed,
        "samples": sampler.samples,
    }


async def run(args: argparse.Namespace) -> None:
    c.print_header("server peak RSS: large upload vs small upload", "psutil")
    sizes = {"small": args.small_mib * c.MiB, "large": args.large_mib * c.MiB}
    results: dict[str, list[dict[str, float]]] = {"small": [], "large": []}
    mib = c.MiB
    with c.workspace(args.keep) as space:
        samples = {}
        for which, size in sizes.items():
            path = space.root / f"{which}.{args.kind}"
            samples[which] = (path, c.make_sample(path, size, args.kind))
            print(f"sample {which}: {path.name}, {size} bytes")
        limit = max(2 * c.GiB, 2 * sizes["large"])
        with c.local_clamd(space, limit) as clamd:
            for path, _sha256 in samples.values():  # warm-up: clamd's first streams are slow
                await c.scan_file(clamd.url, path)
            print(
                "run  upload  size      seconds  idle-MiB  peak-MiB  peak-idle  VmHWM-MiB  samples"
            )
            for i in range(args.runs):
                for which in ("small", "large"):
                    path, sha256 = samples[which]
                    r = await measure(space, clamd.url, limit, path, f"{which}-{i}", sha256)
                    results[which].append(r)
                    print(
                        f"{i + 1:>3}  {which:<6}  {sizes[which] // mib:>5} MiB"
                        f"  {r['seconds']:>7.2f}"
                        f"  {r['idle'] / mib:>8.1f}  {r['peak'] / mib:>8.1f}"
                        f"  {(r['peak'] - r['idle']) / mib:>9.1f}  {r['hwm'] / mib:>9.1f}"
                        f"  {r['samples']:>7}",
                        flush=True,
                    )
    small = c.median([r["peak"] for r in results["small"]])
    large = c.median([r["peak"] for r in results["large"]])
    hwm_small = c.median([r["hwm"] for r in results["small"]])
    hwm_large = c.median([r["hwm"] for r in results["large"]])
    ratio = large / small
    print()
    print(f"median peak RSS, {args.small_mib} MiB upload: {small / mib:.1f} MiB")
    print(f"median peak RSS, {args.large_mib} MiB upload: {large / mib:.1f} MiB")
    print(f"(VmHWM medians: {hwm_small / mib:.1f} MiB and {hwm_large / mib:.1f} MiB)")
    c.report_ratio("large / small", ratio, TARGET, at_most=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--small-mib", type=int, default=64)
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--kind", choices=["zip", "pdf"], default="zip")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
