"""The notary register (offices and their members, by national registry number) and the
office vaults: the offices' seal keys and the documents exchanged with citizens."""

from __future__ import annotations

import uuid
from datetime import datetime

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column


class NotaryOffice(UUIDAuditBase):
    __tablename__ = "notary_offices"

    name: Mapped[str] = mapped_column(String(200))
    enterprise_number: Mapped[str] = mapped_column(String(10), unique=True)
    municipality: Mapped[str | None] = mapped_column(String(100), nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)


class OfficeMember(UUIDAuditBase):
    """A notary or staff member. Members are registered by NRN, possibly before they ever
    log in, so the link is the NRN's blind index, not a person row."""

    __tablename__ = "office_members"
    __table_args__ = (UniqueConstraint("office_id", "nrn_index"),)

    office_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="CASCADE"), index=True
    )
    nrn_index: Mapped[str] = mapped_column(String(64), index=True)
    nrn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(String(10))


class OfficeSealKey(UUIDAuditBase):
    """An office's signing key pair: its seal on documents it sends (ES256 JWS over the
    SHA-256). The public half is published so anyone can check a seal."""

    __tablename__ = "office_seal_keys"

    office_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="CASCADE"), index=True
    )
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    private_jwk_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class OfficeExchange(UUIDAuditBase):
    """A document going between a citizen and an office vault.

    `to_office`: the citizen's copy now held by the office (`document_id`), perhaps for its
    notaries only. `to_citizen`: the office's document waits for the citizen to accept it;
    accepting copies it, seal and all, into their vault (`accepted_document_id`).
    """

    __tablename__ = "office_exchanges"
    __table_args__ = (
        CheckConstraint("direction IN ('to_office', 'to_citizen')", name="direction"),
        CheckConstraint("status IN ('delivered', 'pending', 'accepted', 'refused')", name="status"),
    )

    office_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(10))
    document_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))
    accepted_document_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True
    )
