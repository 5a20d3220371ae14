"""PDF reports the platform hands to people (the history's export so far).

Reports embed DejaVu Sans Condensed, shipped in `fonts/`, so every name renders the same on
any machine ("Zoë Dubois-Ørsted", "Müller", "Łukasz"): PDF's built-in fonts know Latin-1 only,
and a server's fonts are whatever its image happens to hold. fpdf2 embeds only the glyphs a
report uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVuSansCondensed"

# fontTools logs every step of subsetting a font at INFO: dozens of lines per report.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class Report(FPDF):  # type: ignore[misc]
    """An A4 report in a Unicode font, its footer numbering the pages.

    `footer_text(page)` gives the footer in the reader's language; `{nb}` in it becomes the
    number of pages.
    """

    def __init__(
        self,
        *,
        title: str,
        language: str,
        footer_text: Callable[[int], str],
        orientation: Literal["portrait", "landscape"] = "portrait",
    ) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.add_font(FAMILY, "", FONTS / "DejaVuSansCondensed.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSansCondensed-Bold.ttf")
        self.set_font(FAMILY, size=10)
        self.set_title(title)
        self.set_lang(language)
        self.set_creator("Kluis")
        self.set_auto_page_break(auto=True, margin=15)
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.set_text_color(90)
        self.cell(0, 5, self.footer_text(self.page_no()), align="C")
