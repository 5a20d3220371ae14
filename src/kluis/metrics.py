"""Prometheus metrics: what the platform counts, and the text `/metrics` answers with.

Counted where it happens: HTTP requests by method, route template and status, with their
latency (`kluis.web.observe`); uploads by outcome, with their bytes (the vault's
documents); malware scans by verdict, with their duration (the vault's scanner); refusals
by problem type (`kluis.web.errors`). The depth of the task queue is measured when
Prometheus asks (`exposition`), never kept.

Several server processes (`kluis serve --workers N`) each count their own requests; with
`PROMETHEUS_MULTIPROC_DIR` set before the processes start, prometheus_client keeps every
process's values in files there and `/metrics`, whichever process answers, adds them all
up. `kluis serve` sets it (config/README.md, "Metrics"); the variable must be there before
prometheus_client is first imported, which is why the CLI sets it before loading the app.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as multiprocess_mode
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Litestar adds the charset to text/ types itself.
CONTENT_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")
# No `*_created` series next to every counter: twice the series, and nobody reads them.
disable_created_metrics()

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

http_requests = Counter(
    "kluis_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
http_duration = Histogram(
    "kluis_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY,
)
uploads = Counter(
    "kluis_uploads",
    "Uploads into a vault, by outcome: stored, a refusal's problem type, or aborted.",
    ["outcome"],
)
upload_bytes = Counter(
    "kluis_upload_bytes",
    "Bytes received in uploads, by outcome (as kluis_uploads).",
    ["outcome"],
)
scans = Counter(
    "kluis_scans",
    "Malware scans, by verdict: clean, infected, unscannable (limits, encryption) or error.",
    ["verdict"],
)
scan_duration = Histogram(
    "kluis_scan_duration_seconds",
    "Time from opening a scan to clamd's verdict, by verdict.",
    ["verdict"],
    buckets=_LATENCY,
)
refusals = Counter(
    "kluis_refusals",
    "Problem responses (4xx, 5xx), by problem type and status.",
    ["type", "status"],
)


def multiprocess() -> bool:
    """Whether prometheus_client keeps values in shared files (several server processes)."""
    return bool(os.environ.get(MULTIPROCESS_VARIABLE))


class _QueueDepth(Collector):
    def __init__(self, depth: int) -> None:
        self.depth = depth

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "kluis_task_queue_depth",
            "Tasks waiting in the broker's queue when Prometheus asked.",
            value=self.depth,
        )


def _render() -> bytes:
    if multiprocess():
        registry = CollectorRegistry()
        multiprocess_mode.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


async def exposition(queue_depth: int | None) -> bytes:
    """Every metric in Prometheus's text format; the queue depth if it could be measured."""
    # Reading every process's files is disk work: not on the event loop.
    text = await asyncio.to_thread(_render) if multiprocess() else _render()
    if queue_depth is not None:
        measured = CollectorRegistry(auto_describe=False)
        measured.register(_QueueDepth(queue_depth))
        text += generate_latest(measured)
    return text
