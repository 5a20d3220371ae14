"""Download from the vault (2-of-3 fragments, AES-256-GCM) against copyparty serving the
same plaintext bytes unencrypted.

    .venv/bin/python bench/download_vs_copyparty.py [--size-mib 256] [--runs 5]

Starts a project-local clamd and `kluis serve` on loopback, logs in through the development
provider and uploads the sample once; starts copyparty (PyPI) on loopback serving a copy of
the same file from a temporary directory, read-only, plain HTTP. Then, alternating, GETs
/api/v1/documents/{id}/content and the copyparty URL with curl (a C client, so the client
is not what is measured; `--client httpx` uses httpx instead). Both answers are checked
byte for byte once. Ratio = median(copyparty) / median(kluis); target >= 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import _common as c
import httpx

TARGET = 0.8


def curl_get(url: str, cookie: str | None, size: int) -> float:
    command = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download} %{time_total}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=True
    ).stdout.split()
    if int(out[0]) != size:
        raise RuntimeError(f"{url}: {out[0]} bytes, expected {size}")
    return float(out[1])


async def httpx_get(client: httpx.AsyncClient, url: str, size: int) -> float:
    got = 0
    started = time.perf_counter()
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        async for piece in response.aiter_raw(c.MiB):
            got += len(piece)
    elapsed = time.perf_counter() - started
    if got != size:
        raise RuntimeError(f"{url}: {got} bytes, expected {size}")
    return elapsed


async def sha256_over_http(client: httpx.AsyncClient, url: str) -> str:
    digest = hashlib.sha256()
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        async for piece in response.aiter_raw(c.MiB):
            digest.update(piece)
    return digest.hexdigest()


class Copyparty:
    def __init__(self, space: c.Workspace, served: Path) -> None:
        self.dir = space.root / "copyparty"
        self.dir.mkdir()
        self.port = c.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "copyparty.log"
        self.command = [
            sys.executable,
            "-m",
            "copyparty",
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-v",
            f"{served}::r",  # the directory at /, readable by anyone
            "--http-only",
            "--no-crt",
            "-q",
            "--hist",
            str(self.dir / "hist"),
        ]
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(self.dir / "config")}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Copyparty:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        c.wait_for_port(self.port, self.process, self.log, 60)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __exit__(self, *exc: object) -> None:
        c.stop(self.process)


async def run(args: argparse.Namespace) -> None:
    size = args.size_mib * c.MiB
    c.print_header(f"download of {args.size_mib} MiB: kluis vs copyparty", "copyparty", "psutil")
    print(f"server: {args.server}")
    if args.server_env:
        print(f"server environment: {' '.join(args.server_env)}")
    client_version = c._command("curl", "--version") if args.client == "curl" else "httpx"
    print(f"client: {client_version}")
    with c.workspace(args.keep) as space:
        sample = space.root / f"sample.{args.kind}"
        sha256 = c.make_sample(sample, size, args.kind)
        served = space.root / "plain"
        served.mkdir()
        shutil.copyfile(sample, served / sample.name)
        print(f"sample: {sample.name}, {size} bytes, random content, sha256 {sha256[:16]}…")
        limit = max(2 * c.GiB, 2 * size)
        with (
            c.local_clamd(space, limit) as clamd,
            c.server(
                space,
                clamd.url,
                limit,
                extra_env=c.env_option(args.server_env),
                on=args.server,
            ) as kluis,
            Copyparty(space, served) as copyparty,
        ):
            client = await c.logged_in(kluis.url)
            plain = httpx.AsyncClient(timeout=600)
            try:
                document = await c.upload(client, sample, sample.name)
                kluis_url = f"{kluis.url}/api/v1/documents/{document['id']}/content"
                copyparty_url = f"{copyparty.url}/{sample.name}"
                cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                for name, got in (
                    ("kluis", await sha256_over_http(client, kluis_url)),
                    ("copyparty", await sha256_over_http(plain, copyparty_url)),
                ):
                    if got != sha256:
                        raise RuntimeError(f"{name} served other bytes ({got})")
                print("both serve the sample byte for byte (sha256 checked)")

                async def get(which: str) -> float:
                    if args.client == "curl":
                        url, jar = (
                            (kluis_url, cookie) if which == "kluis" else (copyparty_url, None)
                        )
                        return await asyncio.to_thread(curl_get, url, jar, size)
                    if which == "kluis":
                        return await httpx_get(client, kluis_url, size)
                    return await httpx_get(plain, copyparty_url, size)

                for _ in range(args.warmup):
                    await get("kluis")
                    await get("copyparty")
                times: dict[str, list[float]] = {"kluis": [], "copyparty": []}
                print(
                    "run  kluis      copyparty  ratio  kluis-MiB/s  copyparty-MiB/s"
                    "  kluis-cpu-s  copyparty-cpu-s  kluis-page-faults"
                )
                for i in range(args.runs):
                    order = ("kluis", "copyparty") if i % 2 == 0 else ("copyparty", "kluis")
                    cpu: dict[str, float] = {}
                    for which in order:
                        pid = kluis.pid if which == "kluis" else copyparty.pid
                        before = c.cpu_seconds(pid), c.minor_faults(pid)
                        times[which].append(await get(which))
                        cpu[which] = c.cpu_seconds(pid) - before[0]
                        if which == "kluis":
                            faults = c.minor_faults(pid) - before[1]
                    k, p = times["kluis"][-1], times["copyparty"][-1]
                    print(
                        f"{i + 1:>3}  {k:>6.3f} s  {p:>6.3f} s   {p / k:>5.2f}"
                        f"  {args.size_mib / k:>11.1f}  {args.size_mib / p:>15.1f}"
                        f"  {cpu['kluis']:>11.3f}  {cpu['copyparty']:>15.3f}  {faults:>17}",
                        flush=True,
                    )
            finally:
                await client.aclose()
                await plain.aclose()
    k, p = c.median(times["kluis"]), c.median(times["copyparty"])
    ratio = p / k
    print()
    print(f"median kluis:     {k:.3f} s ({args.size_mib / k:.1f} MiB/s)")
    print(f"median copyparty: {p:.3f} s ({args.size_mib / p:.1f} MiB/s)")
    c.report_ratio("copyparty / kluis", ratio, TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--kind", choices=["zip", "pdf"], default="zip")
    parser.add_argument("--client", choices=["curl", "httpx"], default="curl")
    parser.add_argument(
        "--server",
        choices=["granian", "uvicorn"],
        default="granian",
        help="serve the platform as `kluis serve` does (granian) or as `kluis dev` does",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server process (e.g. glibc malloc tunables)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
