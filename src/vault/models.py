"""Tables of the vault."""

from __future__ import annotations

import uuid

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.domain import SHARE_WHEN


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
    __table_args__ = (
        CheckConstraint("(owner_id IS NULL) <> (office_id IS NULL)", name="one_holder"),
    )

    # A citizen's vault, or else a notary office's (`office_id`: an office of the notary
    # register, a layer above this one, so no foreign key from here).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True, nullable=True
    )
    office_id: Mapped[uuid.UUID | None] = mapped_column(GUID, index=True, nullable=True)
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
    # "upload"; "copy" of a document someone shared, or "office" for one a notary office
    # sent or a citizen sent to one: then `origin_label` names the sender.
    origin: Mapped[str] = mapped_column(String(10), default="upload", server_default="upload")
    origin_label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # An office's seal over the content's SHA-256 (a JWS), for documents from an office.
    seal: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def holder_id(self) -> uuid.UUID:
        """The citizen or office whose document this is (the subject of its history)."""
        holder = self.owner_id or self.office_id
        assert holder is not None  # a check constraint
        return holder


class ContactInvitation(UUIDAuditBase):
    """An invitation to become contacts, addressed to an e-mail address. It reaches whoever
    confirms that address, now or after a first login later on."""

    __tablename__ = "contact_invitations"

    inviter_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)  # case-folded
    status: Mapped[str] = mapped_column(String(10), default="pending")
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="SET NULL"), nullable=True
    )


class Contact(UUIDAuditBase):
    """One side of a contact: `owner` has `person` in their list. Accepting an invitation
    writes both sides; removing a contact removes both."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("owner_id", "person_id"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("people.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )


class Share(UUIDAuditBase):
    """A document of `owner` given to `recipient`, a contact: now, or at the owner's death."""

    __tablename__ = "shares"
    __table_args__ = (
        UniqueConstraint("document_id", "recipient_id"),
        CheckConstraint(
            f"takes_effect IN ({', '.join(repr(w) for w in SHARE_WHEN)})", name="takes_effect"
        ),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("documents.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    takes_effect: Mapped[str] = mapped_column(String(10))  # SHARE_WHEN


class Tombstone(UUIDAuditBase):
    """What remains of a destroyed document: that it existed, whose it was, when and why it
    was destroyed. No name, no hash, no key: nothing of its content."""

    __tablename__ = "document_tombstones"

    document_id: Mapped[uuid.UUID] = mapped_column(GUID, unique=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True, nullable=True
    )
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40))
