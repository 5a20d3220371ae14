"""API input and output of succession. NRNs travel only in bodies, never in URLs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec

from vault.schemas import DocumentOut


class ChoiceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    option: int
    confirm_irreversible: bool = False


class ChoiceOut(msgspec.Struct, kw_only=True):
    option: int


class DeathNoticeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    nrn: str
    date_of_death: date
    reference: str
    office_id: uuid.UUID | None = None  # for a notary of several offices


class DeathNoticeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    date_of_death: date
    reference: str
    status: str
    recorded_by: str
    recorded_at: datetime
    # Until then a notary may withdraw it, and nothing destructive runs.
    withdrawable_until: datetime
    erase_at: datetime


class WithdrawIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: str
    office_id: uuid.UUID | None = None


class LookupIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    nrn: str
    reason: str  # the estate file
    office_id: uuid.UUID | None = None


class OfficeRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str


class LookupOut(msgspec.Struct, kw_only=True):
    """For a living person, or a number nobody uses: status "no-death-recorded", nothing
    else."""

    vault_exists: bool | None
    option: int | None
    reference_office: OfficeRef | None
    status: str
    name: str | None = None
    notice: DeathNoticeOut | None = None
    estate_id: uuid.UUID | None = None


class EstateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    nrn: str
    reason: str
    office_id: uuid.UUID | None = None


class HeirsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    heirs: list[str]


class HeirOut(msgspec.Struct, kw_only=True):
    nrn_masked: str
    name: str | None  # once they have an account


class EstateOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    office_id: uuid.UUID
    deceased: str
    date_of_death: date
    reference: str
    opened_by: str
    opened_at: datetime
    status: str
    heirs: list[HeirOut]
    transferred_at: datetime | None
    deadline: datetime


class InheritanceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    deceased: str
    office: str
    transferred_at: datetime | None
    deadline: datetime
    documents: list[DocumentOut]
