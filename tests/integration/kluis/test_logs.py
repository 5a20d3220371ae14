"""Logs of the live server: request ids from the proxy or made here, on the response and
on every line logged while serving; the access log naming route templates; and no national
registry number of anyone in any log line of any logger, at DEBUG, through a real flow."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator

import httpx
import pytest

from tests.support.login import JAN, MARIE, NOTARY, STAFF, login
from tests.support.logs import Records, settled_access_lines
from tests.support.offices import member, register_office
from tests.support.succession import lookup, open_estate, record_death, set_heirs

PEOPLE = (JAN, MARIE, NOTARY, STAFF)
TYPO = "85073003329"  # Jan's number with a wrong check digit, as a notary might type it
# 85073003328 or 85.07.30-033.28 (or any other few characters between the digits).
NUMBER_FORMS = [re.compile(r"[^0-9a-f]{0,3}".join(number)) for number in (*PEOPLE, TYPO)]
_STANDARD = set(vars(logging.makeLogRecord({})))


class EveryRecord(Records):
    """Every record of every logger, also rendered in full: message, exception, extra
    fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!r} {record.args!r}"
        parts = [record.name, message, record.exc_text or "", record.stack_info or ""]
        if record.exc_info:
            parts += traceback.format_exception(*record.exc_info)
        parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in _STANDARD]
        super().emit(record)
        self.lines.append(" ".join(parts))


@pytest.fixture
def every_record() -> Iterator[EveryRecord]:
    """Every logger at DEBUG (uvicorn's, Litestar's, httpx's, SQLAlchemy's included), all
    of it into one handler: on the root, and on each logger that does not pass records up."""
    handler = EveryRecord()
    root = logging.getLogger()
    loggers = [root] + [
        found
        for found in logging.Logger.manager.loggerDict.values()
        if isinstance(found, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    attached = [root] + [logger for logger in loggers if not logger.propagate]
    for logger in attached:
        logger.addHandler(handler)
    yield handler
    for logger in attached:
        logger.removeHandler(handler)
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled


async def test_a_request_id_comes_from_the_proxy_or_is_made_and_marks_every_line(
    server, every_record
):
    async with httpx.AsyncClient(base_url=server.url) as client:
        given = await client.get("/health/live", headers={"x-request-id": "lb-0123456789abcdef"})
        forged = await client.get("/health/live", headers={"x-request-id": "not an id; x=1"})
        plain = await client.get("/health/ready")  # logs why it is not ready, with its id
    assert given.headers["x-request-id"] == "lb-0123456789abcdef"
    made = forged.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert re.fullmatch(r"[0-9a-f]{32}", plain.headers["x-request-id"])
    assert plain.headers["x-request-id"] != made
    wanted = {"lb-0123456789abcdef", made, plain.headers["x-request-id"]}
    lines = await settled_access_lines(
        every_record, lambda lines: wanted <= {getattr(r, "request_id", None) for r in lines}
    )
    by_id = {r.request_id: r for r in lines if hasattr(r, "request_id")}
    assert by_id["lb-0123456789abcdef"].route == "/health/live"
    assert by_id[made].status == 200
    ready = by_id[plain.headers["x-request-id"]]
    assert (ready.method, ready.route, ready.status) == ("GET", "/health/ready", 503)
    assert isinstance(ready.duration_ms, float)
    warnings = [r for r in every_record.records if r.name == "kluis.web.health"]
    assert warnings and {r.request_id for r in warnings} == {plain.headers["x-request-id"]}
    outside = logging.getLogger("kluis.test").makeRecord("t", logging.INFO, "", 0, "x", (), None)
    assert not hasattr(outside, "request_id")  # no request: no id


async def test_no_national_number_reaches_any_log(server, platform, every_record):
    office_id = await register_office(platform)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=20) as jan,
        httpx.AsyncClient(base_url=server.url, timeout=20) as marie,
    ):
        # The citizens log in with their number as the login hint (a query parameter).
        await login(jan, login_hint=JAN)
        await login(marie, login_hint=MARIE)
        assert (await jan.get("/api/v1/me")).status_code == 200
        async with member(server, NOTARY) as notary, member(server, STAFF) as staff:
            # A notary looks a person up by number, and types one wrong.
            assert (await lookup(notary, JAN)).status_code == 200
            refused = await lookup(notary, TYPO)
            assert (refused.status_code, refused.json()["type"]) == (422, "nrn-invalid")
            # The same on the desk's page: the number in a form, the refusal in the page.
            page = await notary.post(
                f"/offices/{office_id}/succession/lookup",
                data={
                    "nrn": TYPO,
                    "reason": "estate 2026/17",
                    "_csrf_token": notary.cookies["csrftoken"],
                },
            )
            assert page.status_code == 422
            # A death notice, an estate, heirs by number (one refused).
            assert (await record_death(staff, JAN)).json()["type"] == "notary-only"
            assert (await record_death(notary, JAN)).status_code == 201
            estate = (await open_estate(notary, JAN)).json()
            bad = await set_heirs(notary, estate["id"], [TYPO])
            assert (bad.status_code, bad.json()["type"]) == (422, "nrn-invalid")
            assert (await set_heirs(notary, estate["id"], [MARIE])).status_code == 200
        assert (await marie.get("/inheritances")).status_code == 200
        assert (await jan.get(f"/nowhere/{JAN}", params={"nrn": JAN})).status_code == 404

    access = await settled_access_lines(
        every_record, lambda lines: any(r.route == "unmatched" for r in lines)
    )
    lines = every_record.lines
    leaks = [line for line in lines if any(form.search(line) for form in NUMBER_FORMS)]
    assert not leaks, leaks[:5]
    # What was captured: the server's access log, SQL at DEBUG, uvicorn's own access log
    # (a handler of its own, with the query string: cleaned when the record was made).
    assert any(line.startswith("sqlalchemy.engine") and "SELECT" in line for line in lines)
    assert any("login_hint=[nrn]" in line for line in lines)
    routes = {record.route for record in access}
    assert {"/auth/login/{provider}", "/api/v1/estates/lookup", "unmatched"} <= routes
    assert not [r for r in access if "?" in r.getMessage() or "login_hint" in r.getMessage()]
