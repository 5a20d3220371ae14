"""API input and output of questionnaires."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class QuestionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str | None = None
    kind: str  # text | number | date | yes_no | choice | file
    label: str
    required: bool = False
    choices: list[str] | None = None  # for a choice question


class QuestionnaireIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: str
    recipient_nrn: str  # in the body, never in a URL
    questions: list[QuestionIn]


class AnswersIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answers: dict[str, Any]  # question id -> value (null: not answered)


class QuestionnaireOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    dossier_id: uuid.UUID
    title: str
    status: str  # sent | in_progress | finished
    step: int  # the next question to answer (its index); len(questions) once all were
    questions: list[dict[str, Any]]
    answers: dict[str, Any] | None  # the recipient's; the office's once finished
    sent_by: str
    created_at: datetime
    finished_at: datetime | None
    result_document_id: uuid.UUID | None  # the PDF, on the dossier's "delivered" tab
