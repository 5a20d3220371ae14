"""Tables of the vault."""

from __future__ import annotations

import uuid

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID
from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class VaultQuota(UUIDAuditBase):
    """A citizen's quota tier, where an operator set one; otherwise the settings' default."""

    __tablename__ = "vault_quotas"

    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), unique=True
    )
    tier: Mapped[str] = mapped_column(String(20))
    quota_bytes: Mapped[int] = mapped_column(BigInteger)


class Document(UUIDAuditBase):
    """A document in a citizen's vault. Its content lives only as fragments at the storage
    locations, encrypted under `wrapped_key`; deleting the row shreds that key."""

    __tablename__ = "documents"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "|c:health|l:house|name…": what list filters and search match, case-folded.
    search_text: Mapped[str] = mapped_column(Text)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    chunk_bytes: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer)
    fragments_needed: Mapped[int] = mapped_column(Integer)
    fragments_total: Mapped[int] = mapped_column(Integer)
