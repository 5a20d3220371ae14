"""Logging: one set-up for the server and the command line, request ids, and no NRN.

`configure_logging(settings)` gives the root logger one handler on standard error, writing
either JSON (one object per line: `time`, `level`, `logger`, `message`, `request_id` and
whatever `extra` fields the call gave) or plain text, as `log_format` says.

The request id of the request being served (`kluis.web.observe`) sits in `request_id` and
is added to every record, whichever logger made it.

No national registry number may reach a log. Code is written never to log one (the
access log names a route's template, never the path or query a person typed), but a log
line is made in many places we do not control: a library that logs a URL, an exception
whose message quotes its input, a debugging line someone adds next year. So every record
is cleaned when it is made (a record factory: it reaches every logger, whatever handler
ends up writing it) and again by a filter on our handler, and our formatters clean the line
they write: any 11-digit number that is a valid NRN or BIS number, bare or with its usual
separators (85073003328, 85.07.30-033.28, 850730 033 28), becomes `[nrn]`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from stdnum.be import bis, nn

from kluis.settings import Settings

REDACTED = "[nrn]"
request_id: ContextVar[str | None] = ContextVar("kluis_request_id", default=None)

# 11 digits, with at most one separator where people usually put one: YY MM DD NNN CC.
_SEP = r"[ ./-]?"
_NUMBER = re.compile(rf"(?<![0-9])\d\d{_SEP}\d\d{_SEP}\d\d{_SEP}\d\d\d{_SEP}\d\d(?![0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")
_MARK = "_nrn_redacted"
# What every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def _replace(match: re.Match[str]) -> str:
    digits = _NOT_DIGIT.sub("", match.group())
    return REDACTED if nn.is_valid(digits) or bis.is_valid(digits) else match.group()


def redact(text: str) -> str:
    """`text` with every NRN (or BIS number) in it replaced by `[nrn]`."""
    if len(text) < 11:
        return text
    return _NUMBER.sub(_replace, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | float) or value is None:
        return value
    try:  # an int, or any object whose text (str or repr) could carry the number
        for text in (str(value), repr(value)):
            cleaned = redact(text)
            if cleaned != text:
                return cleaned
    except Exception:  # an object that cannot be shown is not shown by the handler either
        return value
    return value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Clean a record's message, arguments, exception and stack text (once)."""
    if getattr(record, _MARK, False):
        return record
    setattr(record, _MARK, True)
    args: Any = record.args
    if isinstance(args, tuple):
        cleaned: Any = tuple(_redact_value(arg) for arg in args)
        changed = [a for a, c in zip(args, cleaned, strict=True) if c is not a]
    elif isinstance(args, dict):
        cleaned = {key: _redact_value(arg) for key, arg in args.items()}
        changed = [arg for key, arg in args.items() if cleaned[key] is not arg]
    else:
        cleaned, changed = args, []
    if any(not isinstance(arg, str) for arg in changed):
        # A number or an object became text, which `%d` or `%r` would not take: the
        # message is formatted now, and cleaned whole.
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg} {args!r}"
        record.msg, record.args = redact(message), ()
    else:
        # Strings are cleaned in place, so formatters that read the arguments (uvicorn's
        # access log) still find them.
        record.msg, record.args = _redact_value(record.msg), cleaned
    if record.exc_info and not record.exc_text:
        # Rendered now so the exception's message is cleaned before any handler sees it.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactNrn(logging.Filter):
    """Every NRN out of a record: message, arguments, exception and `extra` fields.

    On the root handler, so it sees what every logger sends there. We never trust every
    caller to keep personal numbers out of what it logs; this is the net under them."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and not key.startswith("_"):
                setattr(record, key, _redact_value(value))
        return True


def _install_record_factory() -> None:
    """Clean every record as it is made, whichever logger and handler it goes to (uvicorn,
    granian and Celery have handlers of their own that our filter never sees)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "kluis", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = redact_record(previous(*args, **kwargs))
        current = request_id.get()
        if current is not None:
            record.request_id = current
        return record

    factory.kluis = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in _extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(line, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value…` for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            defaults={"request_id": "-"},
        )

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = _extra_fields(record)
        if extra:
            first, newline, rest = text.partition("\n")
            pairs = " ".join(f"{key}={value}" for key, value in extra.items())
            text = f"{first} {pairs}{newline}{rest}"
        return redact(text)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """Root handler, level and format from the settings; safe to call more than once."""
    _install_record_factory()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "kluis", False)]:
        root.removeHandler(handler)
    handler = _StandardError()
    handler.kluis = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(RedactNrn())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.captureWarnings(True)  # Python's warnings as log lines too, in the same format
    # httpx logs every URL it calls at INFO; provider URLs may carry a login hint.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # pysaml2 logs whole SAML messages (names, national numbers) at DEBUG and INFO.
    logging.getLogger("saml2").setLevel(logging.WARNING)


def granian_log_config() -> dict[str, Any]:
    """Granian's own loggers without handlers of their own: their lines go through ours."""
    return {
        "handlers": {},
        "formatters": {},
        "loggers": {
            "_granian": {"handlers": [], "propagate": True},
            "granian.access": {"handlers": [], "propagate": True},
        },
    }
