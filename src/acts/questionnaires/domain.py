"""The rules of a questionnaire, without I/O: which questions an office may ask, which
answers fit them, which step comes next and what is still missing.

Questions are `{"id", "kind", "label", "required", "choices"?}`; answers are by question
id: text (at most 2,000 characters), number, ISO date ("YYYY-MM-DD"), yes/no (a boolean),
choice (one of the choices) and file (`{"document_id", "name"}`, set by an upload only).
One step is one question: `step` is the index of the next question to answer, and
`len(questions)` once every question was gone through.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from kluis.errors import Invalid
from kluis.text import N_

KINDS = ("text", "number", "date", "yes_no", "choice", "file")
MAX_QUESTIONS = 50
MAX_LABEL = 300
MAX_CHOICE = 200
MAX_CHOICES = 30
MAX_TEXT = 2000
MAX_TITLE = 200
QUESTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Question = dict[str, Any]
Answers = dict[str, Any]


class QuestionnaireInvalid(Invalid):
    default_type = "questionnaire-invalid"
    default_message = N_("This questionnaire is not valid.")


class AnswerInvalid(Invalid):
    default_type = "answer-invalid"
    default_message = N_("This answer does not fit the question.")


def check_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise QuestionnaireInvalid(
            N_("A questionnaire needs a title of at most %(max)s characters."),
            params={"max": str(MAX_TITLE)},
        )
    return title


def result_name(title: str) -> str:
    """The result PDF's document name: the title, with what no file name may hold replaced."""
    cleaned = "".join("-" if c in "/\\" or not c.isprintable() else c for c in title)
    return f"{cleaned[:180].strip() or 'questionnaire'}.pdf"


def check_questions(questions: list[dict[str, Any]]) -> list[Question]:
    """The questions as stored: each with an id (given, or `q1`, `q2`, … by position), a
    known kind, a label of 1..300 characters, and for a choice at least two choices."""
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise QuestionnaireInvalid(
            N_("A questionnaire has from 1 to %(max)s questions."),
            params={"max": str(MAX_QUESTIONS)},
        )
    checked: list[Question] = []
    for number, raw in enumerate(questions, start=1):
        params = {"number": str(number)}
        kind = raw.get("kind")
        if kind not in KINDS:
            raise QuestionnaireInvalid(
                N_("Question %(number)s is of a kind that does not exist."), params=params
            )
        label = str(raw.get("label") or "").strip()
        if not label or len(label) > MAX_LABEL:
            raise QuestionnaireInvalid(
                N_("Question %(number)s needs a text of at most 300 characters."), params=params
            )
        question_id = str(raw.get("id") or f"q{number}")
        if not QUESTION_ID.match(question_id) or any(q["id"] == question_id for q in checked):
            raise QuestionnaireInvalid(
                N_("Question %(number)s has an id that is not valid or not unique."),
                params=params,
            )
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise QuestionnaireInvalid(
                N_("Question %(number)s must say whether it is required."), params=params
            )
        question: Question = {"id": question_id, "kind": kind, "label": label, "required": required}
        if kind == "choice":
            choices = [str(c).strip() for c in raw.get("choices") or [] if str(c).strip()]
            if (
                len(choices) < 2
                or len(choices) > MAX_CHOICES
                or len(set(choices)) != len(choices)
                or any(len(c) > MAX_CHOICE for c in choices)
            ):
                raise QuestionnaireInvalid(
                    N_("Question %(number)s needs at least two different choices."),
                    params=params,
                )
            question["choices"] = choices
        elif raw.get("choices"):
            raise QuestionnaireInvalid(
                N_("Only a choice question has choices (question %(number)s)."), params=params
            )
        checked.append(question)
    return checked


def _refuse(question: Question) -> AnswerInvalid:
    messages = {
        "text": N_("The answer to “%(label)s” must be a text of at most 2,000 characters."),
        "number": N_("The answer to “%(label)s” must be a number."),
        "date": N_("The answer to “%(label)s” must be a date (YYYY-MM-DD)."),
        "yes_no": N_("The answer to “%(label)s” must be yes or no."),
        "choice": N_("The answer to “%(label)s” must be one of its choices."),
        "file": N_("The answer to “%(label)s” is a file: upload it."),
    }
    return AnswerInvalid(messages[question["kind"]], params={"label": question["label"]})


def check_answer(question: Question, value: Any) -> Any:
    """`value` as stored for `question`, or AnswerInvalid. None means "not answered"."""
    if value is None:
        return None
    kind = question["kind"]
    if kind == "text" and isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    if (
        kind == "number"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    ):
        return value
    if kind == "date" and isinstance(value, str) and ISO_DATE.match(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    if kind == "yes_no" and isinstance(value, bool):
        return value
    if kind == "choice" and isinstance(value, str) and value in question["choices"]:
        return value
    raise _refuse(question)


def from_form(question: Question, text: str) -> Any:
    """A form field's text as the answer's value (the empty field: not answered)."""
    text = text.strip() if question["kind"] != "text" else text
    if text.strip() == "":
        return None
    kind = question["kind"]
    if kind == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise _refuse(question) from None
        value: Any = int(number) if number.is_integer() and "." not in text else number
        return check_answer(question, value)
    if kind == "yes_no":
        if text not in ("yes", "no"):
            raise _refuse(question)
        return text == "yes"
    return check_answer(question, text)


def question_by_id(questions: list[Question], question_id: str) -> tuple[int, Question]:
    for index, question in enumerate(questions):
        if question["id"] == question_id:
            return index, question
    raise AnswerInvalid(
        N_("This questionnaire has no question %(id)s."), params={"id": question_id[:40]}
    )


def save_step(
    questions: list[Question], saved: Answers, given: dict[str, Any]
) -> tuple[Answers, int]:
    """The answers after one step, and the step that follows: the question after the last
    one answered in it. Every value is checked first; one wrong value saves nothing."""
    if not given:
        raise AnswerInvalid(N_("A step answers at least one question."))
    answers = dict(saved)
    last = -1
    for question_id, value in given.items():
        index, question = question_by_id(questions, question_id)
        if question["kind"] == "file":  # set by an upload; a step keeps or clears it
            if value is not None and value != saved.get(question_id):
                raise _refuse(question)
        else:
            value = check_answer(question, value)
        if value is None:
            answers.pop(question_id, None)
        else:
            answers[question_id] = value
        last = max(last, index)
    return answers, min(last + 1, len(questions))


def with_file(
    questions: list[Question], saved: Answers, question_id: str, document_id: str, name: str
) -> tuple[Answers, int]:
    """The answers once a file question got its file, and the step that follows."""
    index, question = question_by_id(questions, question_id)
    if question["kind"] != "file":
        raise AnswerInvalid(
            N_("“%(label)s” is not a file question."), params={"label": question["label"]}
        )
    return {**saved, question_id: {"document_id": document_id, "name": name}}, index + 1


def missing(questions: list[Question], answers: Answers) -> list[Question]:
    """The required questions without an answer."""
    return [q for q in questions if q["required"] and answers.get(q["id"]) is None]


def shown(question: Question, value: Any, yes: str, no: str) -> str:
    """An answer as a person reads it (`yes`/`no` in their language)."""
    if value is None:
        return "—"
    if question["kind"] == "yes_no":
        return yes if value else no
    if question["kind"] == "file":
        return str(value.get("name", ""))
    return str(value)
