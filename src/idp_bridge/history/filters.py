"""What a citizen asks of their history: a kind, a period, an action tag.

The API speaks instants in UTC (API.md): `since` and `until` are ISO 8601 times (a time
without a zone is UTC) or bare dates (a whole UTC day). The page and the exports speak
calendar days in the platform's time zone (`time_zone`, Europe/Brussels): from the start of
the `from` day to the end of the `to` day, both included, whatever the daylight saving time.
Both become the same `HistoryFilter`, in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from kluis.audit import HISTORY_KINDS
from kluis.errors import Invalid

# A `+` in an unencoded query string arrives as a space: `…T10:00:00 01:00`.
_OFFSET_AS_SPACE = re.compile(r"(T[\d:.,]+) (\d{2}(?::?\d{2})?)$")


@dataclass(frozen=True)
class HistoryFilter:
    since: datetime | None = None  # UTC, included
    until: datetime | None = None  # UTC, excluded
    kind: str | None = None
    action: str | None = None  # a leading part of the action tag (`vault:document`)


def _invalid_date() -> Invalid:
    return Invalid("This is not a valid date.", type="invalid-date")


def _out_of_range() -> Invalid:
    return Invalid("This date is out of range.", type="invalid-date")


def check_kind(kind: str | None) -> str | None:
    if not kind:
        return None
    if kind not in HISTORY_KINDS:
        raise Invalid("This kind of history entry does not exist.", type="history-kind-unknown")
    return kind


def _reversed_period() -> Invalid:
    return Invalid("The period ends before it begins.", type="history-period-reversed")


def to_utc(moment: datetime) -> datetime:
    """A time in UTC; one without a zone is taken as UTC, as API.md's times are."""
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:
        raise _out_of_range() from exc


def day_start(day: date, zone: tzinfo) -> datetime:
    """The instant (UTC) a calendar day begins in `zone`."""
    try:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    except OverflowError as exc:
        raise _out_of_range() from exc


def _next_day(day: date) -> date:
    try:
        return day + timedelta(days=1)
    except OverflowError as exc:
        raise _out_of_range() from exc


def _api_moment(value: str | None, *, end: bool) -> datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:  # a bare date is a whole day: `until` includes it
        return day_start(_next_day(day) if end else day, UTC)
    try:
        moment = datetime.fromisoformat(_OFFSET_AS_SPACE.sub(r"\1+\2", text))
    except ValueError as exc:
        raise _invalid_date() from exc
    return to_utc(moment)


def api_filter(
    *, since: str | None, until: str | None, kind: str | None, action: str | None
) -> HistoryFilter:
    start, stop = _api_moment(since, end=False), _api_moment(until, end=True)
    if start is not None and stop is not None and start >= stop:
        raise _reversed_period()
    return HistoryFilter(since=start, until=stop, kind=check_kind(kind), action=action or None)


def _page_day(value: str | None) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # what a date field sends
        raise _invalid_date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _invalid_date() from exc


def page_filter(
    *, first_day: str | None, last_day: str | None, kind: str | None, zone: tzinfo
) -> HistoryFilter:
    first, last = _page_day(first_day), _page_day(last_day)
    if first is not None and last is not None and first > last:
        raise _reversed_period()
    return HistoryFilter(
        since=day_start(first, zone) if first else None,
        until=day_start(_next_day(last), zone) if last else None,
        kind=check_kind(kind),
    )
