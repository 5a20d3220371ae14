"""Who may read the metrics, which request ids are kept, and the checks' time limits."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date

import pytest

from idp_bridge import make_nrn
from kluis.errors import NotFound
from kluis.logs import redact
from kluis.settings import load_settings
from kluis.web import observe
from kluis.web.health import run_checks
from kluis.web.observe import MetricsTokenInvalid, _incoming_id, check_metrics_access
from tests.unit.kluis.test_settings import PRODUCTION


def test_without_a_token_metrics_are_open_outside_production_and_absent_in_it():
    check_metrics_access(load_settings({"KLUIS_ENV": "test"}), None)
    check_metrics_access(load_settings({"KLUIS_ENV": "development"}), "Bearer anything")
    with pytest.raises(NotFound):
        check_metrics_access(load_settings(PRODUCTION), None)


@pytest.mark.parametrize("env", [PRODUCTION, {"KLUIS_ENV": "test"}])
def test_with_a_token_only_that_bearer_token_may_read_them(env):
    settings = load_settings({**env, "KLUIS_OPS__METRICS_TOKEN": "s3cret-token"})
    check_metrics_access(settings, "Bearer s3cret-token")
    check_metrics_access(settings, "bearer s3cret-token")
    for wrong in (None, "", "Bearer", "Bearer s3cret", "Basic s3cret-token", "s3cret-token"):
        with pytest.raises(MetricsTokenInvalid) as refused:
            check_metrics_access(settings, wrong)
        assert refused.value.status == 401 and refused.value.type == "metrics-token-invalid"


def _scope(*values: bytes) -> dict:
    return {"headers": [(b"x-request-id", value) for value in values]}


def test_a_well_formed_request_id_is_kept_and_anything_else_is_not():
    assert _incoming_id(_scope(b"0f8c2a4e-1b3d-4e5f-8a9b-0c1d2e3f4a5b")) == (
        "0f8c2a4e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"
    )
    assert _incoming_id(_scope(b"abcd1234")) == "abcd1234"
    for bad in (
        b"short",
        b"x" * 65,
        b"abc def12",
        b"abcd1234\r\nSet-Cookie: x",
        b"id_with_underscore",
    ):
        assert _incoming_id(_scope(bad)) is None
    assert _incoming_id({"headers": []}) is None


def test_a_request_id_the_logs_would_mask_is_not_used(monkeypatch):
    # Hex digits can spell a valid NRN, which every log line would show as `[nrn]`: the
    # client's X-Request-ID would then match no line.
    masked = uuid.UUID(f"cd4cb{make_nrn(date(1985, 7, 30), 33)}ba9a561e4d25e27e")
    clean = uuid.UUID("0f8c2a4e1b3d4e5f8a9b0c1d2e3f4a5b")
    assert redact(masked.hex) != masked.hex
    assert _incoming_id(_scope(masked.hex.encode())) is None
    assert _incoming_id(_scope(clean.hex.encode())) == clean.hex
    drawn = iter([masked, clean])
    monkeypatch.setattr(observe.uuid, "uuid4", lambda: next(drawn))
    assert observe.new_request_id() == clean.hex


async def test_checks_run_at_once_each_within_its_time():
    async def fine() -> bool:
        await asyncio.sleep(0.2)
        return True

    async def hangs() -> bool:
        await asyncio.sleep(60)
        return True

    async def raises() -> bool:
        raise ConnectionRefusedError("10.0.0.7:6379")

    async def says_no() -> bool:
        return False

    started = time.monotonic()
    results = await run_checks(
        {"a": fine, "b": fine, "slow": hangs, "broken": raises, "no": says_no}, 0.5
    )
    assert time.monotonic() - started < 1.5
    assert results == {"a": True, "b": True, "slow": False, "broken": False, "no": False}
