"""API input and output of dossiers, their documents and messages, and companies."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from vault.schemas import SealOut


class Step(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    label: str
    done: bool = False


class CompanyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    enterprise_number: str
    name: str | None = None  # needed only for a company not known yet
    main_nrn: str | None = None  # its main account, likewise


class DossierIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    office_id: uuid.UUID
    reference: str
    description: str
    status: str = "open"
    clients: list[str] = []  # NRNs, in the body, never in a URL
    company: CompanyIn | None = None
    steps: list[Step] = []


class DossierPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    description: str | None = None
    status: str | None = None
    steps: list[Step] | None = None


class Unread(msgspec.Struct, kw_only=True):
    correspondence: int
    documents: int
    delivered: int
    messages: int


class CompanyRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    enterprise_number: str


class DossierOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    office_id: uuid.UUID
    office: str
    reference: str
    description: str
    status: str
    side: str  # how the caller sees it: "office" or "client"
    progress: str  # "4 / 10"
    steps: list[Step]
    company: CompanyRef | None
    clients: list[str]  # names of clients with an account, masked numbers of the others
    unread: Unread
    created_at: datetime
    updated_at: datetime


class DossierDocumentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID  # the document
    tab: str
    side: str
    author: str
    name: str
    size: int
    sha256: str
    media_type: str
    seal: SealOut | None
    created_at: datetime


class MessageIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    subject: str
    body: str
    reply_to: uuid.UUID | None = None


class AttachmentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID  # the document
    name: str
    size: int
    media_type: str


class QuotedOut(msgspec.Struct, kw_only=True):
    """The message replied to, as the reply shows it."""

    id: uuid.UUID
    author: str
    subject: str
    body: str
    created_at: datetime


class MessageOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    side: str
    author: str
    subject: str
    body: str
    reply_to: QuotedOut | None
    attachments: list[AttachmentOut]
    created_at: datetime


class MemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    nrn: str


class CompanyMemberOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    role: str  # "main" or "staff"
    name: str | None  # once they have an account
    nrn_masked: str


class CompanyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    enterprise_number: str
    role: str  # the caller's
    members: list[CompanyMemberOut]  # for the main account holder; [] for staff
