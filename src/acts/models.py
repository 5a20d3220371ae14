"""The notary register: offices and their members (by national registry number)."""

from __future__ import annotations

import uuid

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID
from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class NotaryOffice(UUIDAuditBase):
    __tablename__ = "notary_offices"

    name: Mapped[str] = mapped_column(String(200))
    enterprise_number: Mapped[str] = mapped_column(String(10), unique=True)
    municipality: Mapped[str | None] = mapped_column(String(100), nullable=True)


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
