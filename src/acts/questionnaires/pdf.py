"""A finished questionnaire as a PDF: its title, the office and dossier, who answered and
when, then each question with its answer, in the client's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from acts.questionnaires.domain import Answers, Question, shown
from kluis.pdf import FAMILY, Report
from kluis.text import N_
from kluis.web.i18n import gettext, in_language


def questionnaire_pdf(
    *,
    title: str,
    office: str,
    dossier: str,
    answered_by: str,
    finished_at: datetime,
    questions: list[Question],
    answers: Answers,
    language: str,
) -> bytes:
    with in_language(language):
        page_text = gettext("Page %(page)s of %(pages)s")
        pdf = Report(
            title=title,
            language=language,
            footer_text=lambda page: page_text % {"page": page, "pages": "{nb}"},
        )
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 16)
        pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        facts = (
            (gettext(N_("Notary office")), office),
            (gettext(N_("Dossier")), dossier),
            (gettext(N_("Answered by")), answered_by),
            (gettext(N_("Finished on")), finished_at.strftime("%Y-%m-%d %H:%M UTC")),
        )
        for label, value in facts:
            pdf.set_font(FAMILY, "B", 10)
            pdf.cell(40, 6, label)
            pdf.set_font(FAMILY, "", 10)
            pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        yes, no = gettext(N_("Yes")), gettext(N_("No"))
        for number, question in enumerate(questions, start=1):
            value: Any = answers.get(question["id"])
            pdf.set_font(FAMILY, "B", 11)
            pdf.multi_cell(0, 6, f"{number}. {question['label']}", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FAMILY, "", 10)
            pdf.multi_cell(0, 6, shown(question, value, yes, no), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        return bytes(pdf.output())
