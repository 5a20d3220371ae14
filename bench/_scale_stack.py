"""What the scale benchmark runs on (bench/scale.py): a PostgreSQL cluster and a Redis of its
own on loopback, the platform's environment, a migrated database with a notary office, and
servers started as separate processes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from _common import BIN, free_port, stop, wait_for_port

from idp_bridge import make_nrn

NOTARY = make_nrn(date(1970, 5, 5), 901)  # outside the seeded numbers (serials below 900)
OFFICE = "0403.170.701"
METRICS_TOKEN = "bench-metrics"


def as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.getuid() == 0 else args


@contextlib.contextmanager
def postgres(data: Path) -> Iterator[str]:
    """A cluster of our own on loopback; the database URL."""
    bin_dir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    cluster = data / "pg"
    if not (cluster / "PG_VERSION").exists():
        cluster.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(cluster, "postgres")
        subprocess.run(  # noqa: S603
            as_postgres([str(bin_dir / "initdb"), "-D", str(cluster), "-U", "kluis"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = free_port()
    options = (
        f"-h 127.0.0.1 -p {port} -k {cluster} -c max_connections=300 -c shared_buffers=4GB"
        " -c effective_cache_size=16GB -c maintenance_work_mem=1GB -c max_wal_size=16GB"
        " -c checkpoint_timeout=30min -c track_wal_io_timing=on"
        # Background work in the log, with times to set beside the runs' (`started`).
        " -c log_autovacuum_min_duration=0 -c log_checkpoints=on -c log_line_prefix='%m [%p] '"
    )
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(cluster), "-l", str(cluster / "log"), "-w"]
    subprocess.run(as_postgres([*ctl, "-o", options, "start"]), check=True)  # noqa: S603
    try:
        subprocess.run(  # noqa: S603
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kluis", "kluis"],
            check=False,
            stderr=subprocess.DEVNULL,
        )
        # Over the cluster's Unix socket, as the operations guide connects the platform to
        # PostgreSQL on its machine (deploy/kluis.env.example).
        yield f"postgresql+asyncpg://kluis@/kluis?host={cluster}&port={port}"
    finally:
        subprocess.run(as_postgres([*ctl, "-m", "fast", "stop"]), check=False)  # noqa: S603


@contextlib.contextmanager
def redis(data: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(data)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, process, data / "redis.log", 10)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(process)


def platform_env(data: Path, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("KLUIS_")},
        "KLUIS_ENV": "development",
        "KLUIS_HOST": "127.0.0.1",
        "KLUIS_DATABASE_URL": database_url,
        "KLUIS_REDIS_URL": f"{redis_url}/1",
        "KLUIS_TASKS__BROKER_URL": f"{redis_url}/0",
        "KLUIS_KEY_FILE": str(data / "keys.json"),  # the seed's blind indexes depend on it
        "KLUIS_DATA_DIR": str(data / "platform"),
        # As config/production.toml: an access line in JSON for every request (serve.log).
        "KLUIS_LOG_LEVEL": "INFO",
        "KLUIS_LOG_FORMAT": "json",
        "KLUIS_VAULT__LOCAL_CLAMD": "false",
        "KLUIS_VAULT__LOCATIONS": json.dumps(
            [{"path": str(data / "platform" / f"location-{n}")} for n in (1, 2, 3)]
        ),
        "KLUIS_OPS__METRICS_TOKEN": METRICS_TOKEN,
        # Thousands of requests a second from one address: the limits would refuse them.
        "KLUIS_RATE_LIMITS__API_REQUESTS": "1000000000",
        "KLUIS_RATE_LIMITS__LOGIN_REQUESTS": "1000000000",
    }


def kluis(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "kluis"), *args], env=env, check=True)  # noqa: S603


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**env, "KLUIS_PORT": str(port)}
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        wait_for_port(port, process, log, 60)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        stop(process)


@contextlib.contextmanager
def platform(data: Path) -> Iterator[dict[str, str]]:
    """The database (one cluster per size: each only grows) and Redis, migrated, with a
    notary office; the platform's environment."""
    data.mkdir(parents=True, exist_ok=True)
    with postgres(data) as database_url, redis(data) as redis_url:
        env = platform_env(data, database_url, redis_url)
        kluis(env, "db", "upgrade")
        if not (data / "office.done").exists():
            kluis(env, "notary", "office", "add", "--name", "Notaris Bench",
                  "--enterprise-number", OFFICE)  # fmt: skip
            kluis(env, "notary", "member", "add", "--office", OFFICE, "--nrn", NOTARY,
                  "--role", "notary")  # fmt: skip
            (data / "office.done").touch()
        yield env
