"""API input and output of office vaults."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from vault.schemas import SealOut


class OfficeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    municipality: str | None
    enterprise_number: str
    address: str | None
    email: str | None


class SendToOffice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    office_id: uuid.UUID
    confidential: bool = False


class SendToCitizen(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    nrn: str  # in the body, never in a URL


class ExchangeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    office_id: uuid.UUID
    direction: str  # "to_office" | "to_citizen"
    document_id: uuid.UUID  # the office's document
    confidential: bool
    status: str
    created_at: datetime


class OfferOut(msgspec.Struct, kw_only=True):
    """A document an office sent me, waiting for me to accept or refuse it."""

    id: uuid.UUID  # the exchange
    office: str
    name: str
    size: int
    sha256: str
    media_type: str
    seal: SealOut | None
    sent_at: datetime


class OfficeDocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    size: int
    sha256: str
    media_type: str
    created_at: datetime
    from_citizen: str | None  # who sent it in, if a citizen did
    confidential: bool
    sealed: bool
