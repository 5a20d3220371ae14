"""multipart/form-data read in one streaming pass: the text fields, then the files, each
file's bytes handed on as they arrive.

Litestar's own form parsing spools files to temporary files; an upload's plaintext must
never touch disk, so forms that carry files are read here with `multipart`'s sans-I/O push
parser. Text fields must come before the files (browsers send a form's fields in document
order, so forms put their file inputs last); a text field after a file is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any

from litestar import Request
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.utils.scope.state import ScopeState
from multipart import MultipartSegment, ParserError, PushMultipartParser, parse_options_header

from kluis.errors import Forbidden, Invalid
from kluis.text import N_

MAX_FIELD_BYTES = 64 * 1024
MAX_SEGMENTS = 64


class FormInvalid(Invalid):
    status = 400
    default_type = "form-invalid"
    default_message = N_("The form could not be read.")


@dataclass
class FilePart:
    """One file of the form; `body` yields its bytes and must be read before the next."""

    field: str
    filename: str
    content_type: str | None
    body: AsyncIterator[bytes]


class StreamedForm:
    def __init__(self, request: Request[Any, Any, Any]) -> None:
        content_type, options = parse_options_header(request.headers.get("content-type", ""))
        if content_type != "multipart/form-data" or not options.get("boundary"):
            raise FormInvalid(
                N_("This form must be sent as multipart/form-data."), type="form-invalid"
            )
        self._parser = PushMultipartParser(
            options["boundary"],
            max_segment_count=MAX_SEGMENTS,
            max_header_size=8 * 1024,
        )
        self._events = self._parse(request.stream())
        self._ahead: MultipartSegment | None = None  # the first file, seen by `fields`
        self._fields_read = False

    async def _parse(
        self, stream: AsyncIterator[bytes]
    ) -> AsyncIterator[MultipartSegment | bytes | None]:
        try:
            async for chunk in stream:
                if chunk:
                    for event in self._parser.parse(chunk):
                        yield event
            for event in self._parser.parse(b""):
                yield event
        except ParserError as exc:
            raise FormInvalid() from exc

    async def _text(self, segment: MultipartSegment) -> str:
        data = bytearray()
        async for event in self._events:
            if event is None:
                break
            assert isinstance(event, bytes | bytearray)
            data += event
            if len(data) > MAX_FIELD_BYTES:
                raise FormInvalid(N_("A field of this form is too long."), type="field-too-long")
        try:
            return data.decode(segment.charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise FormInvalid() from exc

    async def fields(self) -> dict[str, list[str]]:
        """Every text field before the first file, by name."""
        if self._fields_read:
            raise RuntimeError("fields() reads once")
        self._fields_read = True
        found: dict[str, list[str]] = {}
        async for event in self._events:
            if not isinstance(event, MultipartSegment):
                raise FormInvalid()
            if event.filename is not None:
                self._ahead = event
                break
            found.setdefault(event.name or "", []).append(await self._text(event))
        return found

    async def files(self) -> AsyncIterator[FilePart]:
        """The files, in order. Empty file inputs (no name chosen) are skipped."""
        if not self._fields_read:
            await self.fields()
        while True:
            segment, self._ahead = self._ahead, None
            if segment is None:
                segment = await anext(self._events, None)
                if segment is None:
                    return
            if not isinstance(segment, MultipartSegment) or segment.filename is None:
                raise FormInvalid(
                    N_("The form's fields must come before its files."), type="form-invalid"
                )
            finished = False

            async def body() -> AsyncIterator[bytes]:
                nonlocal finished
                async for event in self._events:
                    if event is None:
                        finished = True
                        return
                    assert isinstance(event, bytes | bytearray)
                    yield bytes(event)
                finished = True

            part = FilePart(segment.name or "", segment.filename, segment.content_type, body())
            if segment.filename == "":
                async for _ in part.body:  # an empty file input: nothing chosen
                    pass
                continue
            yield part
            if not finished:  # the caller stopped early: skip to the next part
                async for _ in part.body:
                    pass


def field(fields: dict[str, list[str]], name: str) -> str:
    """One text field's value, "" when absent."""
    values = fields.get(name)
    return values[0].strip() if values else ""


def _csrf_secret(token: str, secret: str) -> str | None:
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    value, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return value if compare_digest(signature, generate_csrf_hash(value, secret)) else None


def check_form_token(request: Request[Any, Any, Any], fields: dict[str, list[str]]) -> None:
    """The CSRF check of a page whose multipart form streams: such a route is excluded from
    the CSRF middleware (which would read the whole form, files and all, before the route
    runs) and checks here, as the middleware does, the form's `_csrf_token` field (or the
    header) against the cookie, once the text fields are read and before any file is."""
    config = request.app.state.csrf_config
    sent = request.headers.get(config.header_name) or field(fields, "_csrf_token")
    cookie = request.cookies.get(config.cookie_name, "")
    expected = _csrf_secret(cookie, config.secret)
    if expected is None or not compare_digest(_csrf_secret(sent, config.secret) or "", expected):
        raise Forbidden(
            N_("This form has expired. Please load the page again."), type="csrf-invalid"
        )
    ScopeState.from_scope(request.scope).csrf_token = sent  # for the page rendered next
