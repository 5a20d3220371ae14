"""`kluis dev` (what `make run` starts) on a fresh data folder: it migrates, seeds, serves,
and a plain `kill` stops its task worker and its clamd with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.support.net import free_port


def test_kluis_dev_serves_and_a_kill_stops_all_it_started(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "KLUIS_ENV": "development",
        "KLUIS_PORT": str(port),
        "KLUIS_DATA_DIR": str(tmp_path),
        "KLUIS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kluis.db'}",
        "KLUIS_KEY_FILE": str(tmp_path / "keys.json"),
        "KLUIS_VAULT__LOCATIONS": json.dumps([{"path": str(tmp_path / f"l{i}")} for i in range(3)]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kluis.cli", "dev"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(600):
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        group = _processes_in_group(process.pid)
        assert any("clamd" in p for p in group) and any(" worker " in p for p in group), group

        process.send_signal(signal.SIGTERM)  # to `kluis dev` alone, not its group
        process.wait(timeout=30)
        for _ in range(100):
            if not _processes_in_group(process.pid):
                break
            time.sleep(0.1)
        assert _processes_in_group(process.pid) == []
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _processes_in_group(group: int) -> list[str]:
    """The command lines of the live processes of a process group, zombies left out."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(command)
    return found
