"""API output of the deed registry."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec

from vault.schemas import SealOut


class DeedOut(msgspec.Struct, kw_only=True):
    """A deed as its parties see it: how many parties, never their NRNs."""

    id: uuid.UUID
    registry_number: str
    kind: str  # one of acts.deeds.domain.KINDS
    date: date
    office_id: uuid.UUID
    office: str
    enterprise_number: str | None
    parties: int
    sha256: str  # of the authentic PDF
    size: int
    seal: SealOut | None  # the office's seal, checked
    published_at: datetime


class OfficeDeedOut(DeedOut, kw_only=True):
    """A deed as the publishing office sees it."""

    published_by: str
    document_id: uuid.UUID  # the PDF, in the office vault
