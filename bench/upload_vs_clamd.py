"""Upload over HTTP (clamd + AES-256-GCM + 2-of-3 fragments) against clamd alone.

    .venv/bin/python bench/upload_vs_clamd.py [--size-mib 256] [--runs 5] [--kind zip]

Starts a project-local clamd and `kluis serve` on loopback, logs in through the development
provider, then, alternating, (a) streams the sample file to clamd over INSTREAM with the
project's `ClamdScanner` (1 MiB chunks, as the server does) and (b) uploads the same file
to POST /api/v1/documents, streamed from a generator. Ratio = median(clamd alone) /
median(upload); target >= 0.9 (everything but the scan hidden behind the scan).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import _common as c
import httpx

TARGET = 0.9


async def one_upload(
    client: httpx.AsyncClient, path: Path, name: str, sha256: str
) -> tuple[float, str]:
    started = time.perf_counter()
    document = await c.upload(client, path, name)
    elapsed = time.perf_counter() - started
    if document["sha256"] != sha256 or document["size"] != c.size_of(path):
        raise RuntimeError(f"stored something else: {document}")
    return elapsed, str(document["id"])


def format_stages(stages: dict[str, float]) -> str:
    names = (
        "total",
        "stream",
        "body_wait",
        "clamd_send",
        "seal_and_write",
        "verdict",
        "commit",
        "record",
    )
    return "  ".join(f"{n}={stages.get(n, 0):.2f}" for n in names)


async def run(args: argparse.Namespace) -> None:
    size = args.size_mib * c.MiB
    c.print_header(f"upload of {args.size_mib} MiB vs clamd alone", "psutil")
    if args.server_env:
        print(f"server environment: {' '.join(args.server_env)}")
    cache = "on" if args.clamd_cache else "off (every scan is a real scan)"
    print(f"clamd cache of clean files: {cache}")
    with c.workspace(args.keep) as space:
        sample = space.root / f"sample.{args.kind}"
        sha256 = c.make_sample(sample, size, args.kind)
        print(f"sample: {sample.name}, {size} bytes, random content, sha256 {sha256[:16]}…")
        limit = max(2 * c.GiB, 2 * size)
        with (
            c.local_clamd(space, limit, cache=args.clamd_cache) as clamd,
            c.server(
                space,
                clamd.url,
                limit,
                extra_env=c.env_option(args.server_env),
                trace=args.trace,
            ) as kluis,
        ):
            clamd_pid = clamd.process.pid if clamd.process else None
            client = await c.logged_in(kluis.url)
            try:
                # Warm-up, not counted: clamd's first streams of a run are slower.
                for _ in range(max(args.warmup, 1)):
                    await c.scan_file(clamd.url, sample)
                    _t, doc = await one_upload(client, sample, sample.name, sha256)
                    if await c.download_sha256(client, doc) != sha256:
                        raise RuntimeError("the stored document reads back different")
                    await c.delete(client, doc)
                print("warm-up upload read back byte for byte (sha256 checked)")
                alone: list[float] = []
                after_end: list[float] = []
                uploads: list[float] = []
                print(
                    "run  clamd-alone (cpu-s, after last byte)  upload   ratio  upload-MiB/s"
                    "  upload cpu-s: server  clamd  client  server-page-faults"
                )
                for i in range(args.runs):
                    order = ("clamd", "upload") if i % 2 == 0 else ("upload", "clamd")
                    for what in order:
                        if what == "clamd":
                            before = c.cpu_seconds(clamd_pid)
                            took, scanning = await c.scan_file(clamd.url, sample)
                            alone.append(took)
                            after_end.append(scanning)
                            alone_cpu = c.cpu_seconds(clamd_pid) - before
                        else:
                            cpu = (
                                c.cpu_seconds(kluis.pid),
                                c.cpu_seconds(clamd_pid),
                                time.process_time(),
                                c.minor_faults(kluis.pid),
                            )
                            t, doc = await one_upload(client, sample, sample.name, sha256)
                            used = (
                                c.cpu_seconds(kluis.pid) - cpu[0],
                                c.cpu_seconds(clamd_pid) - cpu[1],
                                time.process_time() - cpu[2],
                                c.minor_faults(kluis.pid) - cpu[3],
                            )
                            uploads.append(t)
                            stages = kluis.last_trace()
                            await c.delete(client, doc)
                    print(
                        f"{i + 1:>3}  {alone[-1]:>9.2f} s ({alone_cpu:>4.2f},"
                        f" {after_end[-1]:.2f} s)        {uploads[-1]:>6.2f} s"
                        f"  {alone[-1] / uploads[-1]:>5.2f}"
                        f"  {args.size_mib / uploads[-1]:>12.1f}"
                        f"  {used[0]:>20.2f}  {used[1]:>5.2f}  {used[2]:>6.2f}  {used[3]:>18}",
                        flush=True,
                    )
                    if args.trace:
                        print("     stages: " + format_stages(stages), flush=True)
            finally:
                await client.aclose()
    a, u = c.median(alone), c.median(uploads)
    ratio = a / u
    print()
    print(
        f"median clamd alone: {a:.2f} s ({args.size_mib / a:.1f} MiB/s), of which"
        f" {c.median(after_end):.2f} s between the last byte and the verdict (the scan)"
    )
    print(f"median upload:      {u:.2f} s ({args.size_mib / u:.1f} MiB/s)")
    per_run = c.median([x / y for x, y in zip(alone, uploads, strict=True)])
    print(f"median of the per-run ratios: {per_run:.2f}")
    c.report_ratio("clamd_alone / upload", ratio, TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--kind", choices=["zip", "pdf"], default="zip")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server process (e.g. glibc malloc tunables)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="serve through bench/_traced_server.py and print each upload's stages",
    )
    parser.add_argument(
        "--clamd-cache",
        action="store_true",
        help="leave clamd's cache of clean files on: every scan after the first is a look-up",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
