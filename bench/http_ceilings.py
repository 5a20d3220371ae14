"""What Litestar alone can move on this machine (no vault, no clamd): the ceiling the upload
and download benchmarks are up against.

    .venv/bin/python bench/http_ceilings.py [--size-mib 256] [--runs 5] [--server uvicorn]

Serves a bare Litestar app (this file's `app`) as a separate process on loopback, on
granian with one worker as `kluis serve` does (`--server uvicorn`: on uvicorn, as
`kluis dev` does):
- upload: POST the sample, streamed by httpx from a generator exactly as the upload
  benchmark does; the handler reads `request.stream()` and discards it;
- download: GET a `Stream` of the same 1 MiB buffer, sent `size` times, fetched with curl;
- download of fresh buffers: the same, but every 1 MiB is a new object copied out of a
  buffer as large as the download, as a decrypted chunk is: what the vault's download can
  at best reach on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from litestar import Litestar, Request, get, post
from litestar.response import Stream

MiB = 1024**2
BLOCK = os.urandom(MiB)


@post("/sink", request_max_body_size=None, status_code=200)
async def sink(request: Request) -> dict[str, int]:  # type: ignore[type-arg]
    received = 0
    async for piece in request.stream():
        received += len(piece)
    return {"received": received}


@get("/source/{mib:int}")
async def source(mib: int) -> Stream:
    async def blocks() -> AsyncIterator[bytes]:
        for _ in range(mib):
            yield BLOCK

    return Stream(
        blocks(), media_type="application/zip", headers={"content-length": str(mib * MiB)}
    )


_wholes: dict[int, memoryview] = {}


@get("/fresh/{mib:int}")
async def fresh(mib: int) -> Stream:
    # Made once (the warm-up run), then only copied out of.
    if mib not in _wholes:
        _wholes[mib] = memoryview(os.urandom(mib * MiB))
    whole = _wholes[mib]

    async def blocks() -> AsyncIterator[bytes]:
        for i in range(mib):
            yield bytes(whole[i * MiB : (i + 1) * MiB])

    return Stream(
        blocks(), media_type="application/zip", headers={"content-length": str(mib * MiB)}
    )


app = Litestar([sink, source, fresh])


def start_app(space: Any, c: Any, server: str) -> tuple[subprocess.Popen[bytes], str]:
    port = c.free_port()
    log = space.root / f"{server}.log"
    common = ["--port", str(port), "--log-level", "warning"]
    command = {
        "granian": ["granian", "--interface", "asgi", "--host", "127.0.0.1", "--no-ws"],
        "uvicorn": ["uvicorn", "--host", "127.0.0.1", "--no-access-log"],
    }[server]
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [str(c.BIN / command[0]), *command[1:], *common, "http_ceilings:app"],
            cwd=c.PROJECT / "bench",
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    c.wait_for_port(port, process, log, 30)
    return process, f"http://127.0.0.1:{port}"


async def run(args: argparse.Namespace) -> None:
    import _common as c
    from download_vs_copyparty import curl_get

    c.print_header(f"HTTP ceilings of Litestar + {args.server} for {args.size_mib} MiB")
    size = args.size_mib * MiB
    with c.workspace() as space:
        sample = space.root / "sample.zip"
        c.make_sample(sample, size)
        process, url = start_app(space, c, args.server)
        try:
            ups, downs, freshes = [], [], []
            async with httpx.AsyncClient(base_url=url, timeout=600) as client:
                for _ in range(args.runs + 1):  # the first of each is a warm-up
                    started = time.perf_counter()
                    response = await client.post(
                        "/sink",
                        content=c.file_body(sample),
                        headers={"content-length": str(size)},
                    )
                    ups.append(time.perf_counter() - started)
                    assert response.json()["received"] == size
                    downs.append(
                        await asyncio.to_thread(
                            curl_get, f"{url}/source/{args.size_mib}", None, size
                        )
                    )
                    freshes.append(
                        await asyncio.to_thread(
                            curl_get, f"{url}/fresh/{args.size_mib}", None, size
                        )
                    )
        finally:
            c.stop(process)
    up, down, new = c.median(ups[1:]), c.median(downs[1:]), c.median(freshes[1:])
    print(f"upload (httpx -> request.stream()): median {up:.3f} s ({args.size_mib / up:.0f} MiB/s)")
    print(f"download (Stream -> curl): median {down:.3f} s ({args.size_mib / down:.0f} MiB/s)")
    print(
        f"download of fresh buffers (Stream -> curl): median {new:.3f} s"
        f" ({args.size_mib / new:.0f} MiB/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
