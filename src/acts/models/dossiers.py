"""Client dossiers: an office's file for one or more clients (by NRN) or a company, with
its documents (per tab), its messages and who has read what.

Files in a dossier are documents held by the office (`documents.office_id`), stored through
the vault pipeline; a client reaches them only through the dossier. Message subjects and
bodies are sealed at rest under the kernel key provider, bound to the message's id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase, UUIDBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

DOSSIER_STATUSES = ("open", "in_progress", "waiting_for_client", "closed")
DOSSIER_TABS = ("correspondence", "documents", "delivered", "messages")
SIDES = ("office", "client")


class Dossier(UUIDAuditBase):
    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("office_id", "reference"),
        CheckConstraint(
            "status IN ('open', 'in_progress', 'waiting_for_client', 'closed')", name="status"
        ),
    )

    office_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="RESTRICT"), index=True
    )
    reference: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="open")
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("companies.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # The progress list: [{"label": "Title search", "done": true}, …] ("4 / 10").
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class DossierClient(UUIDBase):
    __tablename__ = "dossier_clients"
    __table_args__ = (UniqueConstraint("dossier_id", "nrn_index"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    nrn_index: Mapped[str] = mapped_column(String(64), index=True)
    nrn_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class DossierDocument(UUIDAuditBase):
    """A file on a dossier tab: `correspondence` and `documents` are what the office
    published, `delivered` what a client sent or filled in (a questionnaire's PDF too)."""

    __tablename__ = "dossier_documents"
    __table_args__ = (
        CheckConstraint("tab IN ('correspondence', 'documents', 'delivered')", name="tab"),
        CheckConstraint("side IN ('office', 'client')", name="side"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    tab: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(10))  # who put it there
    author_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    author_label: Mapped[str] = mapped_column(String(200))


class DossierMessage(UUIDAuditBase):
    __tablename__ = "dossier_messages"
    __table_args__ = (CheckConstraint("side IN ('office', 'client')", name="side"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))  # who wrote it
    author_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    author_label: Mapped[str] = mapped_column(String(200))
    subject_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    reply_to_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("dossier_messages.id", ondelete="SET NULL"), nullable=True
    )


class MessageAttachment(UUIDBase):
    __tablename__ = "message_attachments"

    message_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("dossier_messages.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )


class DossierRead(UUIDBase):
    """Until when a reader (a person, or an office's software client) has read a tab."""

    __tablename__ = "dossier_reads"
    __table_args__ = (UniqueConstraint("dossier_id", "reader_id", "tab"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    reader_id: Mapped[uuid.UUID] = mapped_column(GUID)
    tab: Mapped[str] = mapped_column(String(20))
    read_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
