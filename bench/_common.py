"""What every benchmark needs: a sample file, a project-local clamd, the platform as a
separate process on loopback, a logged-in HTTP client, the machine and the versions.

Not a test module: pytest only collects `tests/` (pyproject's `testpaths`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import httpx

from vault.local_clamd import LocalClamd

if TYPE_CHECKING:
    import psutil

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MiB = 1024**2
GiB = 1024**3
JAN = "85073003328"  # Jan Peeters of config/demo.toml
PIECE = MiB  # the client sends the body in pieces of this size


# -- reporting ------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def report_ratio(name: str, ratio: float, target: float, *, at_most: bool = False) -> None:
    """The last line of a benchmark: the ratio against its target from issue 3."""
    met = ratio <= target if at_most else ratio >= target
    sign = "<=" if at_most else ">="
    print(f"ratio {name} = {ratio:.2f} (target {sign} {target}: {'met' if met else 'NOT met'})")


def _command(*args: str) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=False, timeout=10)  # noqa: S603
    except OSError:
        return "not installed"
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.stdout or out.stderr else "?"


def machine() -> dict[str, str]:
    # Virtual machines of one kind land on hosts of different CPU generations, which moved
    # the download figures by half: the family and model tell them apart.
    found = {"model name": "?", "cpu family": "?", "model": "?"}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() in found and found[name.strip()] == "?":
                found[name.strip()] = value.strip()
    cpu = f"{found['model name']} (family {found['cpu family']}, model {found['model']})"
    ram = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    virt = ""
    with contextlib.suppress(OSError):
        if "hypervisor" in Path("/proc/cpuinfo").read_text():
            virt = " (virtual machine)"
    return {
        "cpu": cpu + virt,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
    }


def versions(*extra: str) -> dict[str, str]:
    found = {
        "python": platform.python_version(),
        "clamav": _command("clamd", "--version"),
        "sqlite": sqlite3.sqlite_version,
    }
    for package in (
        "pyeclib",
        "crc32c",
        "litestar",
        "granian",
        "uvicorn",
        "httptools",
        "uvloop",
        "httpx",
        "cryptography",
    ):
        found[package] = _version(package)
    for package in extra:
        found[package] = _version(package)
    return found


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def source_state() -> str:
    """The commit measured, and whether src/ had uncommitted changes."""
    head = _command("git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD")
    dirty = subprocess.run(  # noqa: S603
        ["git", "-C", str(PROJECT), "status", "--porcelain", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{head}{' + uncommitted changes in src/' if dirty else ''}"


def print_header(title: str, *extra_versions: str) -> None:
    print(f"# {title}")
    print(f"source: {source_state()}")
    for key, value in machine().items():
        print(f"machine.{key}: {value}")
    for key, value in versions(*extra_versions).items():
        print(f"version.{key}: {value}")
    print(flush=True)


# -- sample files ---------------------------------------------------------------------------


def write_random(out: BinaryIO, size: int) -> hashlib._Hash:
    digest = hashlib.sha256()
    left = size
    while left:
        piece = os.urandom(min(left, 8 * MiB))
        out.write(piece)
        digest.update(piece)
        left -= len(piece)
    return digest


def _zip_overhead() -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf, zf.open("data.bin", "w") as f:
        f.write(b"x")
    return len(buffer.getvalue()) - 1


def make_sample(path: Path, size: int, kind: str = "zip") -> str:
    """A file of exactly `size` bytes that passes the vault's content sniffing: random
    bytes in a ZIP_STORED archive (the default), or after a PDF header. Returns its SHA-256."""
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf, zf.open("data.bin", "w") as f:
            write_random(f, size - _zip_overhead())
    elif kind == "pdf":
        head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
        with open(path, "wb") as f:
            f.write(head)
            write_random(f, size - len(head) - len(tail))
            f.write(tail)
    else:
        raise ValueError(kind)
    assert path.stat().st_size == size, (path.stat().st_size, size)
    return sha256_of(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(8 * MiB):
            digest.update(piece)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    return path.stat().st_size


async def file_body(path: Path, piece: int = PIECE) -> AsyncIterator[bytes]:
    """The file as a stream of pieces: never more than one piece in the client's memory."""
    f = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, piece):
            yield chunk
    finally:
        f.close()


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Workspace:
    """A temporary directory holding everything one benchmark run creates."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kluis-bench-")))

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def workspace(keep: bool = False) -> Iterator[Workspace]:
    space = Workspace()
    try:
        yield space
    finally:
        if keep:
            print(f"(kept {space.root})")
        else:
            space.cleanup()


@contextlib.contextmanager
def local_clamd(space: Workspace, max_bytes: int, cache: bool = False) -> Iterator[LocalClamd]:
    """A project-local clamd with the project's signatures (`.url`, `.process.pid`).

    Its cache of files found clean is off by default: the benchmarks scan the same sample
    again and again, and with the cache every scan after the first is a hash look-up
    (0.7 s for 256 MiB here instead of a real scan of 7 s and more)."""
    daemon = LocalClamd(space.root / "clamd", max_bytes, cache=cache)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


class Server:
    """`kluis serve` (granian, one worker) as a separate process, every setting from the
    environment; `on="uvicorn"`: the same platform on one uvicorn process, as `kluis dev`
    serves it."""

    def __init__(
        self,
        space: Workspace,
        clamd_url: str,
        limit: int,
        name: str = "kluis",
        extra_env: dict[str, str] | None = None,
        trace: bool = False,
        on: str = "granian",
    ) -> None:
        self.dir = space.root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "server.log"
        self.locations = [self.dir / f"location-{n}" for n in (1, 2, 3)]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KLUIS_")},
            "KLUIS_ENV": "development",
            "KLUIS_HOST": "127.0.0.1",
            "KLUIS_PORT": str(self.port),
            "KLUIS_DATABASE_URL": f"sqlite+aiosqlite:///{self.dir / 'kluis.db'}",
            "KLUIS_KEY_FILE": str(self.dir / "keys.json"),
            "KLUIS_DATA_DIR": str(self.dir),
            "KLUIS_LOG_LEVEL": "WARNING",
            "KLUIS_VAULT__CLAMD_URL": clamd_url,
            "KLUIS_VAULT__LOCAL_CLAMD": "false",
            "KLUIS_VAULT__QUOTA_BYTES": str(limit),
            "KLUIS_VAULT__MAX_UPLOAD_BYTES": str(limit),
            "KLUIS_VAULT__LOCATIONS": json.dumps([{"path": str(p)} for p in self.locations]),
            **(extra_env or {}),
        }
        self.trace = self.dir / "trace.jsonl" if trace else None
        if self.trace:
            self.env["KLUIS_BENCH_TRACE"] = str(self.trace)
        self.on = on
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        kluis = str(BIN / "kluis")
        with open(self.log, "ab") as log:
            subprocess.run(  # noqa: S603
                [kluis, "db", "upgrade"], env=self.env, stdout=log, stderr=log, check=True
            )
            if self.trace:
                command = [sys.executable, str(PROJECT / "bench" / "_traced_server.py")]
            elif self.on == "uvicorn":
                command = [str(BIN / "uvicorn"), "--factory", "kluis.app:create_app"]
                command += ["--host", "127.0.0.1", "--port", str(self.port)]
                command += ["--log-level", "warning", "--no-access-log"]
            else:
                command = [kluis, "serve"]
            self.process = subprocess.Popen(  # noqa: S603
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.process, self.log, 60)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def last_trace(self) -> dict[str, float]:
        """The stage timings of the last upload (only with `trace=True`)."""
        if not self.trace or not self.trace.exists():
            return {}
        return json.loads(self.trace.read_text().splitlines()[-1])

    def stop(self) -> None:
        stop(self.process)
        self.process = None


@contextlib.contextmanager
def server(
    space: Workspace,
    clamd_url: str,
    limit: int,
    name: str = "kluis",
    extra_env: dict[str, str] | None = None,
    trace: bool = False,
    on: str = "granian",
) -> Iterator[Server]:
    running = Server(space, clamd_url, limit, name, extra_env, trace, on)
    try:
        running.start()
        yield running
    finally:
        running.stop()


# -- HTTP -----------------------------------------------------------------------------------


async def logged_in(base_url: str) -> httpx.AsyncClient:
    """A client holding Jan's session, logged in through the development provider."""
    client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(600, connect=10))
    response = await client.get(
        "/auth/login/itsme", params={"login_hint": JAN}, follow_redirects=True
    )
    response.raise_for_status()
    me = await client.get("/api/v1/usage")
    if me.status_code != 200 or "csrftoken" not in client.cookies:
        raise RuntimeError(f"login failed: {me.status_code} {me.text[:200]}")
    return client


def env_option(values: list[str]) -> dict[str, str]:
    """`--server-env NAME=VALUE` options as a dict (to try deployment settings)."""
    return dict(value.split("=", 1) for value in values)


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def upload(client: httpx.AsyncClient, path: Path, name: str) -> dict[str, object]:
    """POST the file as the streamed request body; the document as JSON."""
    response = await client.post(
        "/api/v1/documents",
        params={"name": name},
        content=file_body(path),
        headers={**csrf(client), "content-length": str(size_of(path))},
    )
    if response.status_code != 201:
        raise RuntimeError(f"upload refused: {response.status_code} {response.text[:300]}")
    return response.json()


async def download_sha256(client: httpx.AsyncClient, document_id: str) -> str:
    digest = hashlib.sha256()
    async with client.stream("GET", f"/api/v1/documents/{document_id}/content") as response:
        response.raise_for_status()
        async for piece in response.aiter_raw(MiB):
            digest.update(piece)
    return digest.hexdigest()


async def delete(client: httpx.AsyncClient, document_id: str) -> None:
    response = await client.delete(f"/api/v1/documents/{document_id}", headers=csrf(client))
    response.raise_for_status()


async def scan_file(clamd_url: str, path: Path) -> tuple[float, float]:
    """Stream the file to clamd over INSTREAM with the project's scanner (1 MiB chunks).
    Returns the seconds taken in all, and those from the last byte sent to the verdict
    (clamd spools the stream to a file and only scans it once the stream has ended)."""
    from vault.scanner import ClamdScanner

    scanner = ClamdScanner(clamd_url, 600)
    started = time.perf_counter()
    session = await scanner.open()
    async for chunk in file_body(path):
        await session.send(chunk)
    sent = time.perf_counter()
    verdict = await session.verdict()
    done = time.perf_counter()
    if not verdict.clean:
        raise RuntimeError(f"clamd says {verdict}")
    return done - started, done - sent


class PeakRss:
    """Samples the resident set of a process and its children every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        import psutil

        total = 0
        for process in process_tree(self.pid):
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def process_tree(pid: int | None) -> list[psutil.Process]:
    """A process and its live descendants: `kluis serve` is granian's supervisor, and its
    worker processes serve the requests."""
    import psutil

    if pid is None:
        return []
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def minor_faults(pid: int | None) -> int:
    """Minor page faults of a process and its live descendants (all their threads) so far:
    fresh memory touched."""
    total = 0
    for process in process_tree(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{process.pid}/stat").read_text()
            total += int(stat.rsplit(")", 1)[1].split()[7])  # field 10 of proc(5)
    return total


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process and its live descendants so far."""
    import psutil

    total = 0.0
    for process in process_tree(pid):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total
