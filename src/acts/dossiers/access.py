"""Who sees a dossier, and from which side.

The office side: a member of the dossier's office (notary or staff) or that office's
software. The client side: a person whose NRN is among the dossier's clients, or who holds
an account (main or staff) of the dossier's company. Anyone else finds nothing (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership, OfficeAccess
from acts.models import CompanyMember, Dossier, DossierClient
from idp_bridge import Person, identity_of
from kluis.errors import NotFound
from kluis.text import N_

Side = Literal["office", "client"]


class DossierNotFound(NotFound):
    default_type = "dossier-not-found"
    default_message = N_("This dossier does not exist.")


@dataclass(frozen=True)
class DossierSide:
    """A dossier as the caller sees it."""

    dossier: Dossier
    side: Side
    member: Membership | None = None  # the office side
    person: Person | None = None  # the client side

    @property
    def reader_id(self) -> uuid.UUID:
        if self.member is not None:
            return self.member.reader_id
        assert self.person is not None
        return self.person.id

    @property
    def label(self) -> str:
        if self.member is not None:
            return self.member.label
        assert self.person is not None
        return self.person.full_name


def client_indexes(dossier: Dossier) -> Select[tuple[str]]:
    """The NRN blind indexes of a dossier's client side: its clients and, for a company's
    dossier, the company's accounts."""
    clients = select(DossierClient.nrn_index).where(DossierClient.dossier_id == dossier.id)
    if dossier.company_id is None:
        return clients
    accounts = select(CompanyMember.nrn_index).where(CompanyMember.company_id == dossier.company_id)
    return clients.union(accounts)  # type: ignore[return-value]


def visible_to_client(person: Person) -> ColumnElement[bool]:
    """Dossiers `person` is a client of, in person or through a company account."""
    as_client = select(DossierClient.dossier_id).where(DossierClient.nrn_index == person.nrn_index)
    companies = select(CompanyMember.company_id).where(CompanyMember.nrn_index == person.nrn_index)
    return or_(Dossier.id.in_(as_client), Dossier.company_id.in_(companies))


class DossierAccess:
    def __init__(self, access: OfficeAccess) -> None:
        self.access = access

    async def open(
        self, db: AsyncSession, request: Request[Any, Any, Any], dossier_id: uuid.UUID
    ) -> DossierSide:
        """The dossier and the caller's side of it; a dossier they have no side in does
        not exist for them."""
        dossier = await db.get(Dossier, dossier_id)
        if dossier is not None:
            if dossier.office_id in self.access.memberships(request):
                member = await self.access.membership(db, request, dossier.office_id)
                return DossierSide(dossier, "office", member=member)
            identity = identity_of(request)
            if identity is not None:
                found = await db.scalar(
                    select(Dossier.id).where(
                        Dossier.id == dossier.id, visible_to_client(identity.person)
                    )
                )
                if found is not None:
                    return DossierSide(dossier, "client", person=identity.person)
        raise DossierNotFound()
