"""The history's filters: the API's instants in UTC, the page's days in Belgian time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from idp_bridge.history.filters import api_filter, page_filter
from kluis.errors import Invalid

BRUSSELS = ZoneInfo("Europe/Brussels")


def api(**given: str | None):
    values = {"since": None, "until": None, "kind": None, "action": None, **given}
    return api_filter(**values)


def page(first: str | None = None, last: str | None = None, kind: str | None = None):
    return page_filter(first_day=first, last_day=last, kind=kind, zone=BRUSSELS)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(Invalid) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 422
    return caught.value.type


def test_api_times_without_a_zone_are_utc():
    wanted = api(since="2025-03-01T10:00:00", until="2025-03-01T12:00:00+01:00")
    assert wanted.since == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert wanted.until == datetime(2025, 3, 1, 11, tzinfo=UTC)


def test_api_bare_dates_are_whole_utc_days():
    wanted = api(since="2025-03-01", until="2025-03-31")
    assert wanted.since == datetime(2025, 3, 1, tzinfo=UTC)
    assert wanted.until == datetime(2025, 4, 1, tzinfo=UTC)


def test_api_offset_whose_plus_became_a_space_is_understood():
    assert api(since="2025-03-01T10:00:00 02:00").since == datetime(2025, 3, 1, 8, tzinfo=UTC)


def test_api_keeps_kind_and_action():
    wanted = api(kind="documents", action="vault:document")
    assert (wanted.kind, wanted.action) == ("documents", "vault:document")


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"since": "yesterday"}, "invalid-date"),
        ({"until": "2025-13-01"}, "invalid-date"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "invalid-date"),
        ({"until": "9999-12-31"}, "invalid-date"),
        ({"since": "2025-03-02", "until": "2025-03-01"}, "history-period-reversed"),
        ({"kind": "parties"}, "history-kind-unknown"),
    ],
)
def test_api_refuses_bad_values_with_a_stable_type(given, problem):
    assert refusal(api, **given) == problem


def test_page_days_are_belgian_days_in_winter_and_in_summer():
    winter = page("2025-01-15", "2025-01-15")
    summer = page("2025-07-15", "2025-07-15")
    assert (winter.since, winter.until) == (
        datetime(2025, 1, 14, 23, tzinfo=UTC),
        datetime(2025, 1, 15, 23, tzinfo=UTC),
    )
    assert (summer.since, summer.until) == (
        datetime(2025, 7, 14, 22, tzinfo=UTC),
        datetime(2025, 7, 15, 22, tzinfo=UTC),
    )


def test_the_day_clocks_go_forward_has_23_hours():
    day = page("2025-03-30", "2025-03-30")
    assert day.until - day.since == datetime(2000, 1, 1, 23) - datetime(2000, 1, 1)


def test_page_without_dates_is_the_whole_history():
    wanted = page(kind="access")
    assert (wanted.since, wanted.until, wanted.kind) == (None, None, "access")
    assert page("", "", "") == page()


@pytest.mark.parametrize(
    ("first", "last", "kind", "problem"),
    [
        ("15/01/2025", None, None, "invalid-date"),
        ("2025-02-30", None, None, "invalid-date"),
        (None, "2025-1-5", None, "invalid-date"),
        ("0001-01-01", None, None, "invalid-date"),
        (None, "9999-12-31", None, "invalid-date"),
        ("2025-03-02", "2025-03-01", None, "history-period-reversed"),
        (None, None, "everything", "history-kind-unknown"),
    ],
)
def test_page_refuses_bad_values_with_a_stable_type(first, last, kind, problem):
    assert refusal(page, first, last, kind) == problem
