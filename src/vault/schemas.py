"""API output of the vault."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class SealOut(msgspec.Struct, kw_only=True):
    """A notary office's seal on a document: who, and whether it was checked sound."""

    office: str | None
    verified: bool


class DocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    size: int
    sha256: str
    media_type: str
    categories: list[str]
    labels: list[str]
    created_at: datetime
    # "upload"; "copy" of a document shared by `origin_label`; "office": sent by the
    # notary office `origin_label`, with its seal.
    origin: str = "upload"
    origin_label: str | None = None
    seal: SealOut | None = None


class DocumentPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str | None = None
    categories: list[str] | None = None
    labels: list[str] | None = None


class Usage(msgspec.Struct, kw_only=True):
    used_bytes: int
    quota_bytes: int


class InvitationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: str


class InvitationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    direction: str  # "incoming" | "outgoing"
    email: str
    inviter: str  # the inviter's full name
    status: str
    created_at: datetime


class ContactOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    given_name: str
    surname: str
    full_name: str
    since: datetime


class ShareIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    contact_id: uuid.UUID
    when: str = "now"


class ShareOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    document_id: uuid.UUID
    recipient: str  # full name
    when: str
    created_at: datetime


class SharedDocumentOut(msgspec.Struct, kw_only=True):
    """A document someone shares with me: its share id is how I reach it."""

    id: uuid.UUID  # the share
    owner: str  # full name
    name: str
    size: int
    sha256: str
    media_type: str
    shared_at: datetime
