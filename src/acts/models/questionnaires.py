"""Questionnaires an office sends to a dossier's client, answered step by step.

The questions are the office's (`[{"id", "kind", "label", "required", "choices"?}]`, kinds
text, number, date, yes_no, choice, file); the answers are the client's and are sealed at
rest under the kernel key provider, bound to the questionnaire's id. A file answer is a
document held by the office, stored through the vault pipeline.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

QUESTION_KINDS = ("text", "number", "date", "yes_no", "choice", "file")


class Questionnaire(UUIDAuditBase):
    __tablename__ = "questionnaires"
    __table_args__ = (
        CheckConstraint("status IN ('sent', 'in_progress', 'finished')", name="status"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The client it was sent to, by NRN (they may not have logged in yet).
    recipient_nrn_index: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(12), default="sent")
    step: Mapped[int] = mapped_column(Integer, default=0)  # the next question to answer
    answers_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sent_by: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    result_document_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True
    )
