"""`/metrics` over HTTP: requests by route template and status, uploads with their scans,
refusals by problem type, the task queue's depth on both brokers, the metrics token, and
one total over several server processes."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path

import httpx
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from kluis.tasks import SEND_MAIL, Tasks
from tests.support import files
from tests.support.apps import app_client, variant
from tests.support.commands import kluis_serve
from tests.support.login import JAN
from tests.support.tasks import purge
from tests.support.vault import upload

DOCUMENT = "/api/v1/documents/{document_id}"


def value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
    return response.text


class Metrics:
    """Scrapes before and after, and tells what changed."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.before = ""
        self.after = ""

    async def __aenter__(self) -> Metrics:
        self.before = await scrape(self.client)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.after = await scrape(self.client)

    def delta(self, name: str, **labels: str) -> float:
        return value(self.after, name, **labels) - value(self.before, name, **labels)


async def test_requests_are_counted_by_route_template_method_and_status(server, jan):
    missing = uuid.uuid4()
    async with Metrics(jan) as seen:
        assert (await jan.get(f"/api/v1/documents/{missing}")).status_code == 404
        assert (await jan.get("/api/v1/documents")).status_code == 200
        nowhere = await jan.get(f"/nowhere/{JAN}", params={"login_hint": JAN})
        assert nowhere.status_code == 404
    assert seen.delta("kluis_http_requests_total", method="GET", route=DOCUMENT, status="404") == 1
    documents = {"method": "GET", "route": "/api/v1/documents"}
    assert seen.delta("kluis_http_requests_total", **documents, status="200") == 1
    assert seen.delta("kluis_http_request_duration_seconds_count", **documents) == 1
    assert seen.delta("kluis_http_request_duration_seconds_sum", **documents) > 0
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert seen.delta("kluis_http_requests_total", **unmatched) == 1
    # The metrics name templates, never what was in the path or query.
    assert str(missing) not in seen.after and JAN not in seen.after
    assert "/nowhere" not in seen.after


async def test_refusals_are_counted_by_problem_type(server, jan):
    async with httpx.AsyncClient(base_url=server.url) as anonymous, Metrics(jan) as seen:
        assert (await anonymous.get("/api/v1/documents")).status_code == 401
        missing = await jan.get(f"/api/v1/documents/{uuid.uuid4()}")
        assert missing.status_code == 404
        refused = await jan.post("/api/v1/documents", params={"name": "a.pdf"}, content=b"x")
        assert refused.status_code == 403  # no CSRF token
    assert seen.delta("kluis_refusals_total", type="login-required", status="401") == 1
    assert seen.delta("kluis_refusals_total", type=missing.json()["type"], status="404") == 1
    assert seen.delta("kluis_refusals_total", type="csrf-token-invalid", status="403") == 1


async def test_an_upload_and_its_scan_are_counted(server, jan):
    clean, infected = files.pdf(), files.pdf(files.EICAR)
    async with Metrics(jan) as seen:
        assert (await upload(jan, "akte.pdf", clean)).status_code == 201
        refused = await upload(jan, "virus.pdf", infected)
        assert refused.status_code == 422 and refused.json()["type"] == "malware-found"
    assert seen.delta("kluis_uploads_total", outcome="stored") == 1
    assert seen.delta("kluis_upload_bytes_total", outcome="stored") == len(clean)
    assert seen.delta("kluis_uploads_total", outcome="malware-found") == 1
    assert seen.delta("kluis_upload_bytes_total", outcome="malware-found") == len(infected)
    assert seen.delta("kluis_scans_total", verdict="clean") == 1
    assert seen.delta("kluis_scans_total", verdict="infected") == 1
    assert seen.delta("kluis_scan_duration_seconds_count", verdict="clean") == 1
    assert seen.delta("kluis_scan_duration_seconds_sum", verdict="clean") > 0
    assert seen.delta("kluis_refusals_total", type="malware-found", status="422") == 1
    route = {"method": "POST", "route": "/api/v1/documents"}
    assert seen.delta("kluis_http_requests_total", **route, status="201") == 1
    assert seen.delta("kluis_http_requests_total", **route, status="422") == 1


def queue_mail(tasks: Tasks, count: int) -> None:
    for n in range(count):
        tasks.celery.send_task(
            SEND_MAIL, kwargs={"to": f"p{n}@example.be", "subject": "s", "body": "b"}
        )


async def test_the_queue_depth_of_the_embedded_broker(server, platform, settings):
    purge(settings)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert value(await scrape(client), "kluis_task_queue_depth") == 0
        await asyncio.to_thread(queue_mail, platform.tasks, 2)
        assert value(await scrape(client), "kluis_task_queue_depth") == 2
    purge(settings)


async def test_the_queue_depth_of_a_redis_broker(settings, redis_server, tmp_path):
    broker = msgspec.structs.replace(settings.tasks, broker_url=redis_server.url(2))
    platform = variant(settings, tasks=broker)
    tasks = Tasks(platform)
    async with app_client(platform) as client:
        assert value(await scrape(client), "kluis_task_queue_depth") == 0
        await asyncio.to_thread(queue_mail, tasks, 3)
        assert value(await scrape(client), "kluis_task_queue_depth") == 3
        redis_server.stop()  # unknown, and the rest is still served
        try:
            text = await scrape(client)
        finally:
            redis_server.start()
        assert "kluis_task_queue_depth" not in text and "kluis_http_requests_total" in text


async def test_with_a_token_only_its_bearer_reads_the_metrics(settings):
    async with app_client(variant(settings, ops={"metrics_token": "scrape-token-1"})) as client:
        for headers in ({}, {"authorization": "Bearer wrong"}):
            refused = await client.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["type"] == "metrics-token-invalid"
            assert "scrape-token-1" not in refused.text
        text = await scrape(client, authorization="Bearer scrape-token-1")
        assert "kluis_http_requests_total" in text


def metric_processes(folder: Path) -> set[str]:
    return {re.sub(r"^counter_(\d+)\.db$", r"\1", p.name) for p in folder.glob("counter_*.db")}


async def test_several_processes_count_one_total_and_log_json(server, settings, tmp_path):
    """`kluis serve --workers 2`: each process counts what it serves, yet whichever answers
    the scrape gives the total of both; every line they log is one JSON object."""
    log = tmp_path / "serve.log"
    folder = Path(settings.path(settings.data_dir)) / "metrics"
    with log.open("wb") as stderr:
        async with kluis_serve(
            settings,
            "--workers",
            "2",
            stderr=stderr,
            KLUIS_LOG_FORMAT="json",
            KLUIS_LOG_LEVEL="INFO",
        ) as served:
            # A new connection for each request, so either process may answer any of them.
            async with httpx.AsyncClient(
                base_url=served.url, headers={"connection": "close"}
            ) as client:
                sent, ids = 0, []
                while sent < 12 or len(metric_processes(folder)) < 2:
                    assert sent < 400, "one process answered everything"
                    rid = f"test-request-{sent:04d}"
                    response = await client.get("/api/v1/me", headers={"x-request-id": rid})
                    assert response.status_code == 401
                    assert response.headers["x-request-id"] == rid
                    ids.append(rid)
                    sent += 1
                for _ in range(6):  # whichever process answers: the same total
                    text = await scrape(client)
                    counted = {"method": "GET", "route": "/api/v1/me", "status": "401"}
                    assert value(text, "kluis_http_requests_total", **counted) == sent
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON
    access = [
        r for r in records if r["logger"] == "kluis.access" and r.get("route") == "/api/v1/me"
    ]
    assert sorted(r["request_id"] for r in access) == sorted(ids)
    for record in access:
        assert record["level"] == "INFO" and record["method"] == "GET"
        assert record["status"] == 401 and record["duration_ms"] >= 0
        assert set(record) >= {"time", "level", "logger", "message", "request_id"}
    assert JAN not in log.read_text()
