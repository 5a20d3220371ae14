"""The `kluis` command line in a process of its own, on the test platform's settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from kluis.settings import Settings
from tests.support.net import free_port
from tests.support.softhsm import pkcs11_environ


def command_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a `kluis` process the same database, keys, data folder,
    Redis, task broker, scanner and storage locations as `settings`."""
    vault = settings.vault
    env = {
        **os.environ,
        "KLUIS_ENV": "test",
        "KLUIS_PORT": str(settings.port),
        "KLUIS_DATABASE_URL": settings.database_url,
        "KLUIS_KEY_PROVIDER": settings.key_provider,
        "KLUIS_KEY_FILE": settings.key_file,
        "KLUIS_DATA_DIR": settings.data_dir,
        "KLUIS_REDIS_URL": settings.redis_url,
        "KLUIS_TASKS__BROKER_URL": settings.tasks.broker_url,
        "KLUIS_VAULT__CLAMD_URL": vault.clamd_url,
        "KLUIS_VAULT__FRAGMENTS_NEEDED": str(vault.fragments_needed),
        "KLUIS_VAULT__FRAGMENTS_TOTAL": str(vault.fragments_total),
        "KLUIS_VAULT__LOCATIONS": json.dumps(msgspec.to_builtins(vault.locations)),
    }
    if settings.key_provider == "pkcs11":
        env |= pkcs11_environ(settings.pkcs11)
    return env | extra


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """SIGKILL to every process of the server, as a crash of the machine, or systemd
        killing the service's control group, would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def kluis_serve(
    settings: Settings, *options: str, stderr: Any = None, **env: str
) -> AsyncIterator[Served]:
    """`kluis serve` in a session of its own on a free port, answering when the block starts;
    stopped with SIGTERM (the way systemd stops it) when the block ends. Its log goes to
    `stderr` (a file, say) if given."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "kluis.cli", "serve", *options],
        env=command_env(settings, KLUIS_PORT=str(port), **env),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    served = Served(process, f"http://127.0.0.1:{port}")
    try:
        async with httpx.AsyncClient(base_url=served.url) as client:
            for _ in range(200):
                try:
                    await client.get("/")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, "kluis serve exited"
                    await asyncio.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                served.kill()
        with contextlib.suppress(ProcessLookupError):  # no worker outlives the server
            os.killpg(process.pid, signal.SIGKILL)
