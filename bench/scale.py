"""Kluis at national scale: PostgreSQL seeded with up to a million citizens and ten million
documents, `kluis serve` on granian with Redis sessions, measured with wrk against a bare
Litestar app on the same server.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--runs 3]
        [--data /var/tmp/kluis-scale] [--workers 2] [--think-ms 1000]

For each size (smallest first; the database only grows, so a second run reuses the seed):
1. seed up to that many people (bench/scale_seed.py, with a progress bar);
2. log a notary and 200 seeded citizens in through the development provider, whose ID
   tokens and userinfo are signed and encrypted as itsme's are (the `callback` below is
   measured there); vacuum and analyze what those logins wrote, as pgbench does before
   its runs; start `kluis serve --workers N` and the bare app (bench/_scale_bare.py) with
   as many granian workers;
3. after warm-ups (the list's, then look-ups on ten connections, so that every worker has
   done some), measure, each `--runs` times (the median is reported), for the platform and
   the bare app:
   - `lookup`: a notary's look-up by NRN (POST /api/v1/estates/lookup), one connection,
     then ten;
   - `list`: a citizen's document list (50 documents), 100 sessions on 100 connections,
     each pausing `--think-ms` between requests, then with no pause at all (saturation);
   - `callback`: the login callback (GET /auth/callback/itsme: the code exchanged at the
     provider's token endpoint, the encrypted ID token and userinfo decrypted and checked,
     the person found by NRN, the session created), one login at a time; the provider's
     own share comes from the platform's /metrics;
4. soak: 60 seconds at 200 concurrent users (200 sessions on 200 connections, no pause,
   a mix of list, search, profile, usage and history), zero errors, with the serving
   processes' memory sampled every second;
5. count the platform's log lines (one JSON access line per request, as in production) and
   those in which the logs' NRN filter masked a number: there should be none.

The results go to `<data>/results/<time>.json`; `--plot` draws the growth chart for
docs/benchmarks.md from every size of the newest results.

PostgreSQL (its own cluster in `<data>/pg`, fsync and synchronous commit on, as in
production; reached over its Unix socket) and Redis run on this machine; wrk and the
servers share its cores, as the numbers in docs/benchmarks.md say.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import psutil
from _common import BIN, PROJECT, machine, print_header
from _scale_stack import METRICS_TOKEN, NOTARY, platform, serving
from prometheus_client.parser import text_string_to_metric_families
from scale_seed import asyncpg_dsn, person_nrn, seed

from kluis.logs import REDACTED
from kluis.settings import load_settings

LUA = PROJECT / "bench" / "wrk" / "scale.lua"
SESSIONS = 200
LIST_SESSIONS = 100


# -- logging in --------------------------------------------------------------------------


async def _to_callback(client: httpx.AsyncClient, nrn: str) -> str:
    """Through the provider, up to the redirect back to the platform's callback."""
    start = await client.get("/auth/login/itsme", params={"login_hint": nrn})
    authorize = await client.get(start.headers["location"])
    if authorize.status_code not in (302, 303):
        raise RuntimeError(f"provider refused: {authorize.status_code} {authorize.text[:200]}")
    return authorize.headers["location"]


async def login(base: str, nrn: str) -> str:
    """A session as a line of the sessions file: the Cookie header and the CSRF token."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        done = await client.get(await _to_callback(client, nrn), follow_redirects=True)
        me = await client.get("/api/v1/me")
        if me.status_code != 200 or "csrftoken" not in client.cookies:
            raise RuntimeError(f"login failed: {done.status_code} {me.status_code}")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        return f"{cookie}\t{client.cookies['csrftoken']}"


async def callback_seconds(base: str, nrns: list[str], *, bare: bool) -> list[float]:
    """How long each login's callback takes, as the browser sees it."""
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for nrn in nrns:
            client.cookies.clear()
            url = "/auth/callback/itsme" if bare else await _to_callback(client, nrn)
            started = time.perf_counter()
            response = await client.get(url)
            times.append(time.perf_counter() - started)
            if response.status_code != 302 or "error" in response.headers.get("location", ""):
                raise RuntimeError(f"callback failed: {response.status_code}")
    return times


async def metrics(base: str) -> dict[str, dict[tuple[str, ...], float]]:
    """The platform's HTTP metrics: per family, the value of each label set."""
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.get(
            "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}
        )
    response.raise_for_status()
    found: dict[str, dict[tuple[str, ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sample.labels.get(k, "") for k in ("route", "status", "type"))
            values = found.setdefault(sample.name, {})
            values[labels] = values.get(labels, 0.0) + sample.value
    return found


def refusals(found: dict[str, dict[tuple[str, ...], float]]) -> dict[str, int]:
    """Answers of 400 and above, by route and status, and by problem type."""
    by_route = {
        f"{route} {status}": int(count)
        for (route, status, _), count in found.get("kluis_http_requests_total", {}).items()
        if status >= "400"
    }
    by_type = {
        f"{kind} {status}": int(count)
        for (_, status, kind), count in found.get("kluis_refusals_total", {}).items()
    }
    return {**by_route, **by_type}


# -- load ----------------------------------------------------------------------------------


def wrk(url: str, mode: str, sessions: Path, connections: int, seconds: int, **env: str) -> dict:
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    out = subprocess.run(  # noqa: S603
        [*command, "-s", str(LUA), url],
        env={
            **os.environ,
            "BENCH_MODE": mode,
            "BENCH_SESSIONS": str(sessions),
            "BENCH_THREADS": str(threads),
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    errors = ("connect", "read", "write", "status", "timeout")
    result["errors"] = sum(result[k] for k in errors)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["started"] = started
    return result


def medians(runs: list[dict]) -> dict:
    summary = {k: statistics.median(r[k] for r in runs) for k in ("p50_us", "p99_us", "rps")}
    summary["errors"] = sum(r["errors"] for r in runs)  # every run's, not a median
    summary["requests"] = sum(r["requests"] for r in runs)
    summary["runs"] = runs
    return summary


class Memory(threading.Thread):
    """The resident memory of a process and its children, once a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self.finished = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.finished.wait(1.0):
            rss = 0
            for process in [self.root, *self.root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    rss += process.memory_info().rss
            self.samples.append((time.monotonic() - started, rss))

    def summary(self) -> dict:
        self.finished.set()
        self.join()
        mib = [rss / 2**20 for _, rss in self.samples]
        return {
            "first_10s_mib": statistics.mean(mib[:10]),
            "last_10s_mib": statistics.mean(mib[-10:]),
            "max_mib": max(mib),
            "samples_mib": [round(m, 1) for m in mib],
        }


# -- one size ------------------------------------------------------------------------------


async def measure(size: int, args: argparse.Namespace, env: dict[str, str]) -> dict:
    data = Path(env["KLUIS_DATA_DIR"]).parent
    started = time.monotonic()
    documents = await seed(load_settings(environ=env), size)
    result: dict = {"people": size, "documents": documents, "seed_s": time.monotonic() - started}
    work = data / "run"
    work.mkdir(exist_ok=True)
    # This run's log only: the access log writes a line for every request.
    (data / "serve.log").write_bytes(b"")
    kluis_serve = [str(BIN / "kluis"), "serve", "--workers"]
    # Logins go through a one-process instance: the development provider keeps its codes in
    # its process's memory. The sessions they open (database and Redis) hold in every
    # process of the measured server. One login at a time, the callback's cost does not
    # depend on how many processes serve.
    with serving([*kluis_serve, "1"], env, data / "serve.log") as (entry, _):
        notary = await login(entry, NOTARY)
        citizens = [await login(entry, person_nrn(i)) for i in range(SESSIONS)]
        picks = random.Random(size).sample(range(size), min(size, 1000))
        answers = await capture(entry, notary, citizens[0], person_nrn(picks[0]))
        logins = args.runs * 40
        nrns = [person_nrn(i) for i in random.sample(range(SESSIONS, size), logins)]
        before = await metrics(entry)
        callback = timings(await callback_seconds(entry, nrns, bare=False))
        callback["server_mean_ms"] = per_login(before, await metrics(entry), logins)
    (work / "notary.tsv").write_text(notary + "\n")
    (work / "list.tsv").write_text("\n".join(citizens[:LIST_SESSIONS]) + "\n")
    (work / "soak.tsv").write_text("\n".join(citizens) + "\n")
    (work / "nrns.txt").write_text("\n".join(person_nrn(i) for i in picks) + "\n")
    (work / "answers.json").write_text(json.dumps(answers))
    bare_env = {**os.environ, "BENCH_BARE_ANSWERS": str(work / "answers.json")}
    bare_serve = [sys.executable, str(PROJECT / "bench" / "_scale_bare.py"), str(args.workers)]
    await settle(env)
    with (
        serving([*kluis_serve, str(args.workers)], env, data / "serve.log") as (base, pid),
        serving(bare_serve, bare_env, data / "bare.log") as (bare, _),
    ):
        before = await wal_flushes(env)
        result["kluis"] = {**loads(base, work, args), "callback": callback}
        result["kluis"]["wal_flushes"] = wal_difference(before, await wal_flushes(env))
        result["bare"] = loads(bare, work, args)
        result["bare"]["callback"] = timings(await callback_seconds(bare, nrns, bare=True))
        memory = Memory(pid)
        memory.start()
        result["kluis"]["soak"] = wrk(base, "soak", work / "soak.tsv", SESSIONS, 60)
        result["kluis"]["soak"]["memory"] = memory.summary()
        result["kluis"]["refusals"] = refusals(await metrics(base))
        result["bare"]["soak"] = wrk(bare, "soak", work / "soak.tsv", SESSIONS, 60)
    result["kluis"]["log"] = log_lines(data / "serve.log")
    return result


def log_lines(path: Path) -> dict[str, int]:
    """The platform's log of this run: its lines, and those in which the logs' NRN filter
    (kluis.logs) masked a number. Nothing the platform logs should carry one: a masked line
    means some code tried."""
    lines = masked = 0
    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            lines += 1
            masked += REDACTED in line
    return {"lines": lines, "masked": masked}


async def capture(base: str, notary: str, citizen: str, nrn: str) -> dict:
    """The platform's answers, for the bare app to give."""
    answers = {}

    def headers(line: str) -> dict[str, str]:
        cookie, token = line.split("\t")
        return {"cookie": cookie, "x-csrftoken": token}

    async with httpx.AsyncClient(base_url=base) as client:
        for path in ("/api/v1/documents", "/api/v1/me", "/api/v1/usage", "/api/v1/history"):
            response = await client.get(path, headers=headers(citizen))
            response.raise_for_status()
            answers[path] = response.json()
        response = await client.post(
            "/api/v1/estates/lookup",
            json={"nrn": nrn, "reason": "Estate file B-2026/0042"},
            headers=headers(notary),
        )
        response.raise_for_status()
        answers["/api/v1/estates/lookup"] = response.json()
    if len(answers["/api/v1/documents"]) != 50:
        raise RuntimeError("the listed citizen should have 50 documents")
    return answers


def loads(url: str, work: Path, args: argparse.Namespace) -> dict:
    notary, nrns = work / "notary.tsv", {"BENCH_NRNS": str(work / "nrns.txt")}
    # Warm-ups: the look-ups' 1 000 people are read from disk the first time (a first run's
    # p99 was 7-67 ms, where the next ones gave 4-7 ms), as the list's sessions are. The
    # look-ups' warm-up comes last and on ten connections, so that every worker and every
    # database connection it pools has done look-ups: a worker's first look-up takes 40 to
    # 95 ms (statements compiled and prepared), and a warm-up on one connection reached one
    # worker of two, leaving the other's first look-up to the first run.
    wrk(url, "list", work / "list.tsv", LIST_SESSIONS, 3)
    wrk(url, "lookup", notary, 10, 3, **nrns)
    think = {"BENCH_THINK_MS": str(args.think_ms)}
    plans = {
        "lookup_c1": lambda: wrk(url, "lookup", notary, 1, args.seconds, **nrns),
        "lookup_c10": lambda: wrk(url, "lookup", notary, 10, args.seconds, **nrns),
        "list_think": lambda: wrk(url, "list", work / "list.tsv", 100, args.seconds, **think),
        "list_saturated": lambda: wrk(url, "list", work / "list.tsv", 100, args.seconds),
    }
    return {name: medians([plan() for _ in range(args.runs)]) for name, plan in plans.items()}


@contextlib.asynccontextmanager
async def database(env: dict[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the benchmark's own to the platform's database, closed after use."""
    conn = await asyncpg.connect(asyncpg_dsn(load_settings(environ=env)))
    try:
        yield conn
    finally:
        await conn.close()


async def settle(env: dict[str, str]) -> None:
    """Vacuum and analyze what the set-up wrote (the logins), as pgbench does before its runs.
    Left to autovacuum, that work came due in the look-up's first run at every size of the
    full runs of 2026-11-24 and 25, sharing the two vCPUs with it (at a million, the analyze
    of `history_heads` alone takes 1.5 s). What the measured requests write is autovacuum's,
    during the runs, as in production."""
    async with database(env) as conn:
        await conn.execute("VACUUM (ANALYZE)")


async def wal_flushes(env: dict[str, str]) -> tuple[int, float]:
    """How many times PostgreSQL flushed its WAL to disk, and the milliseconds it waited."""
    async with database(env) as conn:
        row = await conn.fetchrow("SELECT wal_sync, wal_sync_time FROM pg_stat_wal")
    return int(row["wal_sync"]), float(row["wal_sync_time"])


def wal_difference(before: tuple[int, float], after: tuple[int, float]) -> dict[str, float]:
    """The flushes of the platform's runs: each commit of a write waits for one."""
    count, ms = after[0] - before[0], after[1] - before[1]
    return {"count": count, "mean_ms": ms / count if count else 0.0}


def timings(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[min(len(ms) - 1, round(0.99 * len(ms)))],
        "n": len(ms),
    }


def per_login(before: dict, after: dict, logins: int) -> dict[str, float]:
    """Mean milliseconds per login in the callback, and in the provider's routes (the
    token and userinfo requests the callback makes, served by the same process)."""
    family = "kluis_http_request_duration_seconds_sum"

    def spent(prefix: str) -> float:
        return sum(
            value - before[family].get(labels, 0.0)
            for labels, value in after[family].items()
            if labels[0].startswith(prefix)
        )

    callback, provider = spent("/auth/callback"), spent("/dev-idp")
    return {
        "callback": 1000 * callback / logins,
        "provider": 1000 * provider / logins,
        "platform": 1000 * (callback - provider) / logins,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think-ms", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=Path("/var/tmp/kluis-scale"))
    parser.add_argument("--plot", action="store_true", help="only draw the chart")
    parser.add_argument("--seed-only", action="store_true", help="seed every size, measure none")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    (args.data / "results").mkdir(exist_ok=True)
    if args.plot:
        from _scale_plot import plot

        plot(args.data / "results", PROJECT / "docs" / "img" / "scale-growth.png")
        return
    print_header("scale", "granian", "asyncpg", "litestar")
    print(f"wrk: {subprocess.run(['wrk', '-v'], capture_output=True, text=True).stdout[:40]}")
    results = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    results["sizes"] = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for size in sorted(int(s) for s in args.sizes.split(",")):
        print(f"== {size} people")
        with platform(args.data / str(size)) as env:
            if args.seed_only:
                asyncio.run(seed(load_settings(environ=env), size))
                continue
            measured = asyncio.run(measure(size, args, env))
        print(json.dumps(brief(measured)))
        results["sizes"].append(measured)
        (args.data / "results" / f"{stamp}.json").write_text(json.dumps(results, indent=1))


def brief(measured: dict) -> dict:
    """The headline numbers of one size."""
    out: dict = {k: measured[k] for k in ("people", "documents")}
    for target in ("kluis", "bare"):
        numbers = measured[target]
        for name in ("lookup_c1", "lookup_c10", "list_think", "list_saturated", "soak"):
            run = numbers[name]
            out[f"{target}.{name}"] = (
                f"p50 {run['p50_us'] / 1000:.1f} ms, p99 {run['p99_us'] / 1000:.1f} ms, "
                f"{run['rps']:.0f}/s, errors {run['errors']}"
            )
        out[f"{target}.callback"] = numbers["callback"]
    out["wal_flushes"] = measured["kluis"]["wal_flushes"]
    out["log"] = measured["kluis"]["log"]
    out["memory"] = {
        k: v for k, v in measured["kluis"]["soak"]["memory"].items() if k != "samples_mib"
    }
    return out


if __name__ == "__main__":
    main()
