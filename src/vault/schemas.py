"""API output of the vault."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class DocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    size: int
    sha256: str
    media_type: str
    categories: list[str]
    labels: list[str]
    created_at: datetime


class DocumentPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str | None = None
    categories: list[str] | None = None
    labels: list[str] | None = None


class Usage(msgspec.Struct, kw_only=True):
    used_bytes: int
    quota_bytes: int
