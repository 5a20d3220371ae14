"""Forms with files, read in one pass: fields first, then each file as it streams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kluis.web.multipart import FormInvalid, StreamedForm, field

BOUNDARY = "----kluis-test"


class FakeRequest:
    """Only what StreamedForm asks of a request: its headers and its body, in small chunks
    so parts straddle chunk boundaries."""

    def __init__(self, body: bytes, content_type: str | None = None) -> None:
        self.headers = {"content-type": content_type or f"multipart/form-data; boundary={BOUNDARY}"}
        self.body = body

    async def stream(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), 7):
            yield self.body[start : start + 7]


def form(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def read_all(reader: StreamedForm) -> tuple[dict[str, list[str]], list[tuple[str, bytes]]]:
    fields = await reader.fields()
    files = []
    async for part in reader.files():
        files.append((part.filename, b"".join([chunk async for chunk in part.body])))
    return fields, files


async def test_fields_then_files_each_streamed():
    body = form(
        ("subject", None, "Vraag één".encode()),
        ("party", None, b"85073003328"),
        ("party", None, b"90031412508"),
        ("file", "a.pdf", b"%PDF-1.7 " * 100),
        ("file", "", b""),  # an empty file input
        ("file", "b.txt", b"tweede"),
    )
    fields, files = await read_all(StreamedForm(FakeRequest(body)))  # type: ignore[arg-type]
    assert field(fields, "subject") == "Vraag één"
    assert fields["party"] == ["85073003328", "90031412508"]
    assert files == [("a.pdf", b"%PDF-1.7 " * 100), ("b.txt", b"tweede")]


async def test_a_file_left_unread_is_skipped():
    body = form(("file", "a.txt", b"x" * 1000), ("file", "b.txt", b"yes"))
    reader = StreamedForm(FakeRequest(body))  # type: ignore[arg-type]
    names = []
    async for part in reader.files():
        names.append(part.filename)
        if part.filename == "b.txt":
            assert b"".join([c async for c in part.body]) == b"yes"
    assert names == ["a.txt", "b.txt"]


async def test_a_field_after_a_file_is_refused():
    body = form(("file", "a.txt", b"x"), ("subject", None, b"late"))
    with pytest.raises(FormInvalid):
        await read_all(StreamedForm(FakeRequest(body)))  # type: ignore[arg-type]


async def test_not_multipart_or_broken_is_refused():
    with pytest.raises(FormInvalid):
        StreamedForm(FakeRequest(b"{}", "application/json"))  # type: ignore[arg-type]
    with pytest.raises(FormInvalid):
        await read_all(StreamedForm(FakeRequest(b"--" + BOUNDARY.encode() + b"\r\ngarbage")))  # type: ignore[arg-type]


async def test_an_overlong_field_is_refused():
    body = form(("body", None, b"x" * (65 * 1024)))
    with pytest.raises(FormInvalid) as refused:
        await read_all(StreamedForm(FakeRequest(body)))  # type: ignore[arg-type]
    assert refused.value.type == "field-too-long"
