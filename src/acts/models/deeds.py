"""The deed registry: deeds published by notary offices, and their parties by NRN.

A deed is a link to the registry, not a document in anyone's vault: its authentic PDF is a
document held by the publishing office (scanned, encrypted and sealed like any other), so
it never counts against a citizen's quota and never passes to heirs.
"""

from __future__ import annotations

import uuid
from datetime import date

from advanced_alchemy.base import UUIDAuditBase, UUIDBase
from advanced_alchemy.types import GUID
from sqlalchemy import Date, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class Deed(UUIDAuditBase):
    __tablename__ = "deeds"
    __table_args__ = (UniqueConstraint("office_id", "registry_number"),)

    office_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="RESTRICT"), index=True
    )
    registry_number: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(40))  # sale, mortgage, marriage-contract, …
    deed_date: Mapped[date] = mapped_column(Date, index=True)
    # A company's enterprise number, for deeds about a company (formation, statutes, …).
    enterprise_number: Mapped[str | None] = mapped_column(String(10), nullable=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="RESTRICT"), unique=True
    )
    published_by: Mapped[str] = mapped_column(String(200))  # who, as the history names them


class DeedParty(UUIDBase):
    """A party to a deed, by NRN: they may log in for the first time years later."""

    __tablename__ = "deed_parties"
    __table_args__ = (UniqueConstraint("deed_id", "nrn_index"),)

    deed_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("deeds.id", ondelete="CASCADE"), index=True
    )
    nrn_index: Mapped[str] = mapped_column(String(64), index=True)
    nrn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
