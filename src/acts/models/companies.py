"""Companies in the client portal: an enterprise number with a main account held by a
person, who adds accounts for the company's staff. Accounts are by NRN, like office members,
so someone can be added before they first log in."""

from __future__ import annotations

import uuid

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID
from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class Company(UUIDAuditBase):
    __tablename__ = "companies"

    enterprise_number: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class CompanyMember(UUIDAuditBase):
    __tablename__ = "company_members"
    __table_args__ = (
        UniqueConstraint("company_id", "nrn_index"),
        CheckConstraint("role IN ('main', 'staff')", name="role"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    nrn_index: Mapped[str] = mapped_column(String(64), index=True)
    nrn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(String(10))
