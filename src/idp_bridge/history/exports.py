"""The history as a file the citizen keeps: CSV for a spreadsheet, PDF to print or file.

Both carry the words of the page (`Entry`) and the same headings, in the citizen's language.
The CSV streams row by row, whatever the history's size. The PDF is made in memory, so it
holds at most `PDF_MAX_ENTRIES` entries and says so when the period holds more.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from idp_bridge.history.entries import Entry
from kluis.audit import HISTORY_KINDS
from kluis.pdf import FAMILY, Report
from kluis.text import N_
from kluis.web.i18n import current_language, gettext

PDF_MAX_ENTRIES = 2000
CSV_BATCH_ROWS = 200

# The chain's verdict, on the page and in the PDF.
INTACT = N_("The history is intact (verified)")
TAMPERED = N_("The history has been tampered with")
ALL_KINDS = N_("All kinds")

# The columns of the page, the CSV and the PDF; the CSV adds the action's code.
HEADINGS = (
    N_("When"),
    N_("Kind"),
    N_("What"),
    N_("Who"),
    N_("On what"),
    N_("IP address"),
    N_("Details"),
)
CSV_CODE_HEADING = N_("Action code")


def headings() -> list[str]:
    return [gettext(heading) for heading in HEADINGS]


def csv_headings() -> list[str]:
    return [*headings(), gettext(CSV_CODE_HEADING)]


# A cell a spreadsheet would read as a formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`), also
# behind leading blanks or in full-width forms. It gets a leading apostrophe, which
# spreadsheets read as "this is text" (OWASP, CSV injection).
_FORMULA_STARTS = tuple("=+-@\t\r\n＝＋－＠")


def spreadsheet_safe(cell: str) -> str:
    if cell.startswith(_FORMULA_STARTS) or cell.lstrip(" \t\r\n").startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_line(cells: Sequence[str]) -> str:
    """One CSV record: every field quoted, formulas neutralised, CRLF as RFC 4180 says."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(
        [spreadsheet_safe(cell) for cell in cells]
    )
    return buffer.getvalue()


def csv_cells(entry: Entry) -> list[str]:
    return [
        entry.at.isoformat(sep=" ", timespec="seconds"),
        entry.kind_label,
        entry.what,
        entry.who,
        entry.on_what,
        entry.ip,
        entry.detail,
        entry.action,
    ]


async def history_csv(entries: AsyncIterable[Entry]) -> AsyncIterator[bytes]:
    """The CSV file in pieces of a few hundred rows. UTF-8 with a byte order mark, without
    which spreadsheets take the file for Latin-1 and garble every accent."""
    yield ("\ufeff" + csv_line(csv_headings())).encode()
    batch: list[str] = []
    async for entry in entries:
        batch.append(csv_line(csv_cells(entry)))
        if len(batch) >= CSV_BATCH_ROWS:
            yield "".join(batch).encode()
            batch.clear()
    if batch:
        yield "".join(batch).encode()


@dataclass(frozen=True)
class HistoryReport:
    """Everything the PDF says, already in the reader's language."""

    language: str
    title: str
    facts: list[tuple[str, str]]  # (label, value): the person, the period, the kind, when made
    chain_intact: bool
    chain_text: str
    headings: list[str]  # `headings()`, translated before the PDF is made in a thread
    entries: list[Entry]
    notice: str | None  # e.g. that only the newest entries are in it
    empty_text: str
    page_text: str  # "Page %(page)s of %(pages)s", translated


def period_text(first_day: str, last_day: str) -> str:
    if first_day and last_day:
        return gettext("%(first)s to %(last)s", first=first_day, last=last_day)
    if first_day:
        return gettext("from %(first)s", first=first_day)
    if last_day:
        return gettext("until %(last)s", last=last_day)
    return gettext("the whole history")


def history_report(
    *,
    person_name: str,
    period: str,
    kind: str | None,
    total: int,
    entries: list[Entry],
    chain_intact: bool,
    zone: ZoneInfo,
) -> HistoryReport:
    """The PDF's words in the reader's language (they are not known in the thread that
    lays the PDF out)."""
    made = datetime.now(UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    notice = None
    if total > len(entries):
        notice = gettext(
            "This file holds the newest %(shown)s of %(total)s entries. Choose a shorter "
            "period, or download the CSV file, for all of them.",
            shown=len(entries),
            total=total,
        )
    return HistoryReport(
        language=current_language(),
        title=f"Kluis — {gettext('History')}",
        facts=[
            (gettext("Name"), person_name),
            (gettext("Period"), period),
            (gettext("Kind"), gettext(HISTORY_KINDS[kind] if kind else ALL_KINDS)),
            (gettext("Entries"), str(total)),
            (gettext("Made on"), f"{made} ({zone.key})"),
        ],
        chain_intact=chain_intact,
        chain_text=gettext(INTACT if chain_intact else TAMPERED),
        headings=headings(),
        entries=entries,
        notice=notice,
        empty_text=gettext("No entries match these filters."),
        page_text=gettext("Page %(page)s of %(pages)s"),
    )


# Millimetres on landscape A4 (277 between the margins): when, kind, what, who, on what,
# IP address, details.
_COLUMNS = (30, 31, 38, 36, 62, 27, 53)
_LINE = 4.2


def _cells(entry: Entry) -> list[str]:
    return [
        entry.when,
        entry.kind_label,
        entry.what,
        entry.who,
        entry.on_what,
        entry.ip,
        entry.detail,
    ]


def _wrapped(pdf: Report, cells: list[str]) -> tuple[list[list[str]], float]:
    """Each cell's lines in its column, and the row's height."""
    lines = [
        [text]
        if pdf.get_string_width(text) <= width - 2 * pdf.c_margin
        else pdf.multi_cell(width, _LINE, text, dry_run=True, output="LINES")
        for text, width in zip(cells, _COLUMNS, strict=True)
    ]
    return lines, max(len(cell) for cell in lines) * _LINE + 1


def _draw_row(pdf: Report, lines: list[list[str]], height: float, *, fill: bool) -> None:
    x, y = pdf.l_margin, pdf.get_y()
    if fill:
        pdf.set_fill_color(230, 234, 240)
        pdf.rect(x, y, sum(_COLUMNS), height, style="F")
    for cell, width in zip(lines, _COLUMNS, strict=True):
        for number, line in enumerate(cell):
            pdf.set_xy(x, y + 0.5 + number * _LINE)
            pdf.cell(width, _LINE, line)
        x += width
    pdf.set_draw_color(200)
    pdf.line(pdf.l_margin, y + height, x, y + height)
    pdf.set_xy(pdf.l_margin, y + height)


def _table(pdf: Report, headings: list[str], entries: list[Entry]) -> None:
    """The entries as a table whose headings come again on every page. Drawn line by line:
    fpdf2's own table lays out every cell twice and is about ten times slower."""

    def head() -> None:
        pdf.set_font(FAMILY, "B", 8)
        _draw_row(pdf, *_wrapped(pdf, headings), fill=True)
        pdf.set_font(FAMILY, "", 8)

    head()
    for entry in entries:
        lines, height = _wrapped(pdf, _cells(entry))
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            head()
        _draw_row(pdf, lines, height, fill=False)


def history_pdf(report: HistoryReport) -> bytes:
    pdf = Report(
        title=report.title,
        language=report.language,
        orientation="landscape",
        footer_text=lambda page: report.page_text % {"page": page, "pages": "{nb}"},
    )
    # Rows break pages themselves; a row is never split over two pages.
    pdf.set_auto_page_break(auto=False, margin=15)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 9, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in report.facts:
        pdf.set_font(FAMILY, "B", 10)
        pdf.cell(40, 6, label)
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 11)
    if report.chain_intact:
        pdf.set_text_color(30, 107, 52)
    else:
        pdf.set_text_color(140, 31, 31)
    pdf.multi_cell(0, 7, report.chain_text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    if report.notice:
        pdf.set_font(FAMILY, "", 9)
        pdf.multi_cell(0, 5, report.notice, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if report.entries:
        _table(pdf, report.headings, report.entries)
    else:
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 6, report.empty_text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
