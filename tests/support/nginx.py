"""Debian's nginx running the committed deploy/nginx/kluis.conf on loopback.

The site file is included by the http block of Debian's own /etc/nginx/nginx.conf (which
allows TLSv1 and TLSv1.1 for every site: the site must narrow it), in a throwaway prefix.
Only what must differ on loopback is substituted: the listen addresses (loopback, free
ports, no IPv6), server_name, the certificate's paths and the upstream's address. Each
substitution must match exactly as often as expected, so a reshaped config fails loudly
here rather than being tested half-rendered.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.net import free_port, self_signed_certificate

SITE_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "kluis.conf"
DEBIAN_CONF = Path("/etc/nginx/nginx.conf")
HOSTNAME = "localhost"
TEMP_DIRS = ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def _substitute(text: str, pattern: str, replacement: str, count: int) -> str:
    rendered, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert found == count, f"deploy/nginx/kluis.conf: {pattern!r} found {found}×, not {count}×"
    return rendered


def render_site(
    text: str,
    *,
    upstream_port: int,
    http_port: int,
    https_port: int,
    cert: Path,
    key: Path,
    changes: dict[str, str] | None = None,
) -> str:
    """The site file with its loopback values; `changes` (exact text → text) lets a control
    test turn one directive the other way."""
    for pattern, replacement, count in [
        (r"^(\s*)server 127\.0\.0\.1:8000;", rf"\g<1>server 127.0.0.1:{upstream_port};", 1),
        (r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{http_port};", 1),
        (r"^\s*listen \[::\]:80;\n", "", 1),
        (r"^(\s*)listen 443 ssl http2;", rf"\g<1>listen 127.0.0.1:{https_port} ssl http2;", 1),
        (r"^\s*listen \[::\]:443 ssl http2;\n", "", 1),
        (r"^(\s*)server_name kluis\.example\.be;", rf"\g<1>server_name {HOSTNAME};", 2),
        (r"^(\s*)ssl_certificate\s+\S+;", rf"\g<1>ssl_certificate {cert};", 1),
        (r"^(\s*)ssl_certificate_key\s+\S+;", rf"\g<1>ssl_certificate_key {key};", 1),
    ]:
        text = _substitute(text, pattern, replacement, count)
    for old, new in (changes or {}).items():
        assert text.count(old) == 1, f"deploy/nginx/kluis.conf: {old!r} is not there once"
        text = text.replace(old, new)
    return text


def debian_http_block(prefix: Path) -> str:
    """The inside of the http block of Debian's nginx.conf, its log and site folder moved
    into `prefix`."""
    conf = DEBIAN_CONF.read_text()
    found = re.search(r"^http \{\n(.*?)^\}", conf, flags=re.MULTILINE | re.DOTALL)
    assert found, f"{DEBIAN_CONF}: no http block"
    body = found.group(1)
    body = _substitute(
        body, r"^(\s*)access_log\s+\S+;", rf"\g<1>access_log {prefix}/access.log;", 1
    )
    return _substitute(
        body,
        r"^(\s*)include /etc/nginx/sites-enabled/\*;",
        rf"\g<1>include {prefix}/sites-enabled/*;",
        1,
    )


@dataclass
class Nginx:
    """nginx (master and one worker) in `prefix`, in the foreground of its own process."""

    prefix: Path
    upstream_port: int
    changes: dict[str, str] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.cert, self.key = self_signed_certificate(self.prefix)

    @property
    def url(self) -> str:
        return f"https://{HOSTNAME}:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def temp_dir(self, name: str) -> Path:
        return self.prefix / name

    def write_config(self) -> Path:
        sites = self.prefix / "sites-enabled"
        sites.mkdir(exist_ok=True)
        (sites / "kluis").write_text(
            render_site(
                SITE_CONF.read_text(),
                upstream_port=self.upstream_port,
                http_port=self.http_port,
                https_port=self.https_port,
                cert=self.cert,
                key=self.key,
                changes=self.changes,
            )
        )
        for name in TEMP_DIRS:
            (self.prefix / name).mkdir(exist_ok=True)
        temp_paths = "\n".join(f"    {name}_path {self.prefix / name};" for name in TEMP_DIRS)
        # As root, nginx would hand its worker to `nobody`, which cannot enter a private
        # temporary folder; Debian's nginx.conf names `www-data`. Here the worker runs as the
        # one who runs the test.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"{user}worker_processes 1;\n"
            "events {\n    worker_connections 256;\n}\n"
            "http {\n"
            f"{temp_paths}\n"
            f"{debian_http_block(self.prefix)}"
            "}\n"
        )
        return conf

    def command(self, *extra: str) -> list[str]:
        binary = nginx_binary()
        assert binary, "nginx is missing: `make test` installs Debian's nginx"
        return [
            binary,
            "-p",
            f"{self.prefix}/",
            "-c",
            str(self.write_config()),
            "-g",
            f"daemon off; pid {self.prefix}/nginx.pid; error_log {self.prefix}/error.log info;",
            *extra,
        ]

    def start(self) -> None:
        checked = subprocess.run(  # noqa: S603 - Debian's nginx, our own arguments
            self.command("-t", "-q"), capture_output=True, text=True, timeout=30
        )
        assert checked.returncode == 0, checked.stderr + self.error_log()
        self.process = subprocess.Popen(  # noqa: S603
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        for port in (self.http_port, self.https_port):
            while True:
                assert self.process.poll() is None, "nginx exited: " + self.error_log()
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=1),
                ):
                    break
                assert time.monotonic() < deadline, "nginx did not listen: " + self.error_log()
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: as `systemctl stop` does
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def error_log(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text() if log.exists() else ""

    def worker_pids(self) -> list[int]:
        assert self.process
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:  # the parent's pid
                    pids.append(int(stat.parent.name))
        assert pids, "nginx has no worker"
        return pids

    def spooled(self, name: str) -> list[str]:
        """Every file in the temporary folder `name`: those listed there, and those the
        workers hold open (nginx unlinks a temporary file as soon as it opens it, so the
        bytes are on disk while the folder looks empty)."""
        folder = self.temp_dir(name)
        found = [str(p) for p in folder.rglob("*") if p.is_file()]
        for pid in self.worker_pids():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith(f"{folder}/"):
                        found.append(f"{target} (open in worker {pid})")
        return found


@contextlib.contextmanager
def running_nginx(
    prefix: Path, upstream_port: int, changes: dict[str, str] | None = None
) -> Iterator[Nginx]:
    nginx = Nginx(prefix, upstream_port, changes or {})
    nginx.start()
    try:
        yield nginx
    finally:
        nginx.stop()
