"""API input and output of the identity domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec


class Me(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    given_name: str
    surname: str
    nrn_masked: str
    birth_date: date | None
    email: str | None
    email_verified: bool
    language: str
    loa: str
    roles: list[str]
    offices: list[dict[str, str]]
    preferred_office_id: uuid.UUID | None
    succession_option: int
    notifications: dict[str, bool]


class MePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    language: str | None = None
    # null clears the reference notary; leaving it out keeps it.
    preferred_office_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    notifications: dict[str, bool] | None = None


class EmailAddressChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: str


class HistoryEntry(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    seq: int  # the event's place in the person's chain
    at: datetime
    action: str
    kind: str  # one of kluis.audit.HISTORY_KINDS
    actor: str
    target: str | None
    ip: str | None
    detail: dict[str, Any]


class History(msgspec.Struct, kw_only=True):
    chain_verified: bool
    total: int  # events matching the filters, on all pages together
    next_before: int | None  # `before` for the next, older page; null on the last
    events: list[HistoryEntry]
