from __future__ import annotations

import pytest

from acts.questionnaires.domain import (
    AnswerInvalid,
    QuestionnaireInvalid,
    check_answer,
    check_questions,
    check_title,
    from_form,
    missing,
    result_name,
    save_step,
    shown,
    with_file,
)

QUESTIONS = check_questions(
    [
        {"kind": "text", "label": "Name of the buyer", "required": True},
        {"kind": "number", "label": "Price"},
        {"kind": "date", "label": "Date of signing", "required": True},
        {"kind": "yes_no", "label": "Mortgage?"},
        {"kind": "choice", "label": "Regime", "choices": ["community", "separation"]},
        {"id": "deed", "kind": "file", "label": "Previous deed"},
    ]
)


def question(kind: str) -> dict:
    return next(q for q in QUESTIONS if q["kind"] == kind)


def test_questions_get_ids_by_position_unless_given():
    assert [q["id"] for q in QUESTIONS] == ["q1", "q2", "q3", "q4", "q5", "deed"]
    assert QUESTIONS[0] == {
        "id": "q1",
        "kind": "text",
        "label": "Name of the buyer",
        "required": True,
    }
    assert question("choice")["choices"] == ["community", "separation"]


@pytest.mark.parametrize(
    "questions",
    [
        [],
        [{"kind": "text", "label": f"Q{n}"} for n in range(51)],
        [{"kind": "colour", "label": "Favourite"}],
        [{"kind": "text", "label": "  "}],
        [{"kind": "text", "label": "x" * 301}],
        [{"kind": "choice", "label": "One", "choices": ["only"]}],
        [{"kind": "choice", "label": "Same", "choices": ["a", "a"]}],
        [{"kind": "text", "label": "Has choices", "choices": ["a", "b"]}],
        [{"kind": "text", "label": "A", "id": "x"}, {"kind": "text", "label": "B", "id": "x"}],
        [{"kind": "text", "label": "Bad id", "id": "a b"}],
        [{"kind": "text", "label": "Required?", "required": "yes"}],
    ],
)
def test_bad_questionnaires_are_refused(questions):
    with pytest.raises(QuestionnaireInvalid) as refused:
        check_questions(questions)
    assert refused.value.status == 422
    assert refused.value.type == "questionnaire-invalid"


def test_a_title_is_required_and_short():
    assert check_title("  Intake ") == "Intake"
    for title in ("", " ", "x" * 201):
        with pytest.raises(QuestionnaireInvalid):
            check_title(title)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("text", "Jan Peeters", "Jan Peeters"),
        ("number", 325000, 325000),
        ("number", 12.5, 12.5),
        ("date", "2026-03-01", "2026-03-01"),
        ("yes_no", False, False),
        ("choice", "separation", "separation"),
    ],
)
def test_answers_of_the_right_type_are_kept(kind, value, stored):
    assert check_answer(question(kind), value) == stored


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("text", 12),
        ("text", "x" * 2001),
        ("number", "12"),
        ("number", True),
        ("number", float("nan")),
        ("date", "01/03/2026"),
        ("date", "2026-02-30"),
        ("yes_no", "yes"),
        ("yes_no", 1),
        ("choice", "polygamy"),
        ("file", "deed.pdf"),
    ],
)
def test_answers_of_the_wrong_type_are_refused(kind, value):
    with pytest.raises(AnswerInvalid) as refused:
        check_answer(question(kind), value)
    assert refused.value.type == "answer-invalid"
    assert refused.value.status == 422


def test_a_step_saves_its_answers_and_moves_past_the_last():
    answers, step = save_step(QUESTIONS, {}, {"q1": "Jan", "q2": 10})
    assert (answers, step) == ({"q1": "Jan", "q2": 10}, 2)
    answers, step = save_step(QUESTIONS, answers, {"q2": None})  # cleared, going back
    assert (answers, step) == ({"q1": "Jan"}, 2)


def test_one_wrong_value_saves_nothing():
    saved = {"q1": "Jan"}
    with pytest.raises(AnswerInvalid):
        save_step(QUESTIONS, saved, {"q2": 3, "q4": "maybe"})
    assert saved == {"q1": "Jan"}


def test_a_step_with_nothing_or_an_unknown_question_is_refused():
    for given in ({}, {"q99": "x"}):
        with pytest.raises(AnswerInvalid):
            save_step(QUESTIONS, {}, given)


def test_a_file_answer_comes_from_an_upload_only():
    answers, step = with_file(QUESTIONS, {}, "deed", "d-1", "akte.pdf")
    assert (answers["deed"], step) == ({"document_id": "d-1", "name": "akte.pdf"}, 6)
    # A step may keep the file as it is, or clear it, but not make one up.
    assert save_step(QUESTIONS, answers, {"deed": answers["deed"]})[0] == answers
    with pytest.raises(AnswerInvalid):
        save_step(QUESTIONS, answers, {"deed": {"document_id": "other", "name": "x.pdf"}})
    with pytest.raises(AnswerInvalid):
        with_file(QUESTIONS, {}, "q1", "d-1", "akte.pdf")


def test_missing_names_the_required_questions_unanswered():
    assert [q["id"] for q in missing(QUESTIONS, {"q1": "Jan"})] == ["q3"]
    assert missing(QUESTIONS, {"q1": "Jan", "q3": "2026-01-01"}) == []


def test_form_text_becomes_typed_answers():
    assert from_form(question("number"), "1250") == 1250
    assert from_form(question("number"), "12,5") == 12.5
    assert from_form(question("yes_no"), "no") is False
    assert from_form(question("date"), "") is None
    assert from_form(question("text"), "  spaced ") == "  spaced "
    with pytest.raises(AnswerInvalid):
        from_form(question("number"), "twelve")


def test_answers_as_shown_and_the_result_name():
    assert shown(question("yes_no"), True, "Ja", "Nee") == "Ja"
    assert shown(question("file"), {"document_id": "d", "name": "a.pdf"}, "", "") == "a.pdf"
    assert shown(question("text"), None, "", "") == "—"
    assert result_name("Intake 1/2") == "Intake 1-2.pdf"
