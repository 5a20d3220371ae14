"""A project-local clamd with the project's own signatures, for `kluis dev` and the tests.

It runs in the foreground as a child process on a unix socket in a directory of its own,
with `config/clamav/clamd.conf.template` filled in; nothing of the system's ClamAV set-up
(its database, its service) is used or changed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from vault.scanner import SIGNATURES

START_TIMEOUT = 60.0
# clamd writes each stream it is sent to its TemporaryDirectory before scanning: on a tmpfs
# that plaintext never reaches a disk.
SPOOL_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - mkdtemp, 0700


def clamd_binary() -> str | None:
    return shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
    )


class LocalClamd:
    def __init__(self, run_dir: Path, max_bytes: int, *, cache: bool = True) -> None:
        self.run_dir = run_dir
        self.max_bytes = max_bytes
        # clamd remembers the hashes of files it found clean and answers them again at
        # once; benchmarks that scan the same bytes twice turn that off.
        self.cache = cache
        self.socket = run_dir / "clamd.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self.spool: Path | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _configure(self) -> Path:
        database = self.run_dir / "db"
        database.mkdir(parents=True, exist_ok=True)
        for old in database.iterdir():
            old.unlink()
        for signatures in [*SIGNATURES.glob("*.ndb"), *SIGNATURES.glob("*.hsb")]:
            shutil.copy(signatures, database / signatures.name)
        self.spool = Path(tempfile.mkdtemp(prefix="kluis-clamd-", dir=SPOOL_ROOT))
        megabytes = -(-self.max_bytes // 1024**2) + 1
        scan_megabytes = min(4 * megabytes, 4000)  # clamd refuses limits of 4 GB and more
        config = (SIGNATURES / "clamd.conf.template").read_text()
        for name, value in {
            "socket": str(self.socket),
            "database": str(database),
            "run": str(self.run_dir),
            "spool": str(self.spool),
            "max_bytes": f"{megabytes}M",
            "scan_bytes": f"{scan_megabytes}M",
        }.items():
            config = config.replace("{" + name + "}", value)
        if not self.cache:
            config += "DisableCache yes\n"
        path = self.run_dir / "clamd.conf"
        path.write_text(config)
        return path

    def start(self) -> str:
        binary = clamd_binary()
        if binary is None:
            raise RuntimeError("clamd is not installed (Debian: clamav-daemon)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        config = self._configure()
        log = open(self.run_dir / "clamd.out", "wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and config
            [binary, f"--config-file={config}"], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"clamd exited; see {self.run_dir / 'clamd.out'}")
            if self._pong():
                return self.url
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("clamd did not answer in time")

    def _pong(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.socket))
                s.sendall(b"zPING\0")
                return s.recv(16) == b"PONG\0"
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)
