"""Logging: NRNs redacted wherever they hide in a record, JSON and text lines, request ids."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from kluis.logs import (
    REDACTED,
    JsonFormatter,
    RedactNrn,
    TextFormatter,
    configure_logging,
    redact,
    request_id,
)
from kluis.settings import load_settings
from tests.support.login import JAN, MARIE, bis_number
from tests.support.logs import Records
from tests.unit.kluis.test_settings import PRODUCTION

JAN_FORMS = (JAN, "85.07.30-033.28", "850730-033-28", "850730 033 28", "85/07/30-033.28")


@pytest.mark.parametrize("form", JAN_FORMS)
def test_an_nrn_in_any_usual_spelling_is_redacted(form):
    assert redact(f"person {form} looked up") == f"person {REDACTED} looked up"
    assert redact(f"login_hint={form}&x=1") == f"login_hint={REDACTED}&x=1"


def test_several_numbers_and_bis_numbers_are_redacted():
    assert redact(f"{JAN},{MARIE};{bis_number()}") == f"{REDACTED},{REDACTED};{REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "85073003329",  # a wrong check digit: not a number anyone has
        "185073003328",  # twelve digits
        "850730033281",
        "took 12345678901 ns",
        "2026-11-23T20:06:26.123Z",
        "document 3f2a9c1e-85cb-4d11-9b6a-0e5f6a7b8c9d",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert redact(text) == text


@pytest.fixture
def configured() -> Iterator[Records]:
    """Logging as the server configures it, plus a handler of the test's own (not ours:
    what reaches it is what any foreign handler would get)."""
    root = logging.getLogger()
    level = root.level
    configure_logging(load_settings({"KLUIS_ENV": "test"}, log_level="DEBUG"))
    captured = Records()
    root.addHandler(captured)
    yield captured
    root.removeHandler(captured)
    root.setLevel(level)


def test_every_record_is_cleaned_when_it_is_made(configured):
    log = logging.getLogger("some.library")
    log.info("GET /auth/login/itsme?login_hint=%s", JAN)
    log.info("looked up %d", int(JAN))
    log.info("a person: %r", {"nrn": "85.07.30-033.28"})
    log.info("by name: %(who)s", {"who": MARIE})
    log.warning(f"formatted by the caller: {JAN}")  # the caller formatted it
    try:
        raise ValueError(f"no person {JAN}")
    except ValueError:
        log.exception("failed")
    texts = [record.getMessage() for record in configured.records]
    texts += [record.exc_text or "" for record in configured.records]
    assert all(JAN not in text and MARIE not in text for text in texts), texts
    assert "85.07.30-033.28" not in str(texts)
    assert texts[0] == f"GET /auth/login/itsme?login_hint={REDACTED}"
    assert REDACTED in configured.records[-1].exc_text


def test_extra_fields_are_cleaned_by_the_filter():
    record = logging.makeLogRecord({"msg": "hello", "person": JAN, "count": 3})
    RedactNrn().filter(record)
    assert record.person == REDACTED and record.count == 3


def _record(message: str = "uploaded %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.getLogger("kluis.test").makeRecord(
        "kluis.test", logging.INFO, __file__, 1, message, args or ("akte.pdf",), None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_json_line_has_the_fields_and_the_extra_ones():
    token = request_id.set("req-12345678")
    try:
        record = _record(route="/api/v1/documents", status=201)
    finally:
        request_id.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["time"].endswith("Z") and fields["time"][10] == "T"
    assert fields["level"] == "INFO"
    assert fields["logger"] == "kluis.test"
    assert fields["message"] == "uploaded akte.pdf"
    assert fields["request_id"] == "req-12345678"
    assert fields["route"] == "/api/v1/documents" and fields["status"] == 201


def test_a_json_line_outside_a_request_and_with_an_exception():
    try:
        raise RuntimeError(f"broken for {JAN}")
    except RuntimeError:
        record = _record()
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    fields = json.loads(line)
    assert fields["request_id"] is None
    assert "RuntimeError" in fields["exception"] and JAN not in line


def test_a_text_line_shows_the_request_id_and_extra_fields():
    token = request_id.set("abcdef12")
    try:
        record = _record(status=200)
    finally:
        request_id.reset(token)
    line = TextFormatter().format(record)
    assert line.endswith("INFO kluis.test [abcdef12] uploaded akte.pdf status=200")
    assert "[-]" in TextFormatter().format(_record())


def test_configure_logging_keeps_one_handler_of_its_own_in_the_format_asked(capsys):
    root = logging.getLogger()
    level = root.level
    try:
        settings = load_settings({"KLUIS_ENV": "test"}, log_format="json", log_level="INFO")
        configure_logging(settings)
        configure_logging(settings)
        ours = [h for h in root.handlers if getattr(h, "kluis", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        logging.getLogger("kluis.test").info("visible %s", JAN)
        logging.getLogger("kluis.test").debug("below the level")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert [line["message"] for line in lines] == [f"visible {REDACTED}"]
        configure_logging(load_settings({"KLUIS_ENV": "test"}))
        ours = [h for h in root.handlers if getattr(h, "kluis", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, TextFormatter)
    finally:
        root.setLevel(level)


def test_production_writes_json_and_takes_the_metrics_token_from_the_environment():
    settings = load_settings({**PRODUCTION, "KLUIS_OPS__METRICS_TOKEN": "scrape-me"})
    assert settings.log_format == "json"
    assert settings.ops.metrics_token == "scrape-me"
    assert settings.ops.check_timeout_seconds == 2.0
    assert load_settings({"KLUIS_ENV": "development"}).log_format == "text"
