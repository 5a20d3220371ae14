"""`kluis dev` (what `make run` starts) on a fresh data folder: it migrates, seeds, serves,
and a plain `kill` stops its task worker (with the worker's own children) and its clamd."""

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
        assert any("clamd" in p for p in group), group
        workers = [pid for pid, command in _children(process.pid) if " worker " in command]
        assert len(workers) == 1  # in a group of its own, with its beat

        process.send_signal(signal.SIGTERM)  # to `kluis dev` alone, not its group
        process.wait(timeout=30)
        for _ in range(100):
            if not _processes_in_group(process.pid) and not _processes_in_group(workers[0]):
                break
            time.sleep(0.1)
        assert _processes_in_group(process.pid) == []
        assert _processes_in_group(workers[0]) == []
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _live_processes() -> list[tuple[int, int, int, str]]:
    """(pid, parent, group, command line) of every live process, zombies left out."""
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
        if fields[0] != "Z":
            found.append((int(entry), int(fields[1]), int(fields[2]), command))
    return found


def _processes_in_group(group: int) -> list[str]:
    return [command for _, _, g, command in _live_processes() if g == group]


def _children(parent: int) -> list[tuple[int, str]]:
    return [(pid, command) for pid, p, _, command in _live_processes() if p == parent]
