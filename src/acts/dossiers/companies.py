"""Companies in the client portal: the main account holder adds and removes staff accounts
(by NRN); every account of a company sees the company's dossiers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.domain import nrn_digits, parse_enterprise_number
from acts.models import Company, CompanyMember
from idp_bridge import Person, masked_nrn, nrn_index, seal_nrn
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, Invalid, NotFound
from kluis.keys import KeyProvider
from kluis.text import N_

audit.ACTION_LABELS.update(
    {
        "acts:company:registered": N_("Company account opened"),
        "acts:company:member-added": N_("Account added to a company"),
        "acts:company:member-removed": N_("Account removed from a company"),
    }
)


class CompanyNotFound(NotFound):
    default_type = "company-not-found"
    default_message = N_("This company does not exist.")


@dataclass(frozen=True)
class MemberView:
    member: CompanyMember
    person: Person | None  # once they have an account
    nrn_masked: str


@dataclass(frozen=True)
class CompanyView:
    company: Company
    role: str  # the caller's
    members: list[MemberView]


class Companies:
    def __init__(self, keys: KeyProvider) -> None:
        self.keys = keys

    def masked(self, sealed: bytes) -> str:
        return masked_nrn(self.keys, sealed)

    async def ensure(
        self,
        db: AsyncSession,
        *,
        enterprise_number: str,
        name: str | None,
        main_nrn: str | None,
        actor: Actor,
    ) -> Company:
        """The company with this enterprise number; one not known yet is registered, with
        `main_nrn` as its main account. In the caller's transaction."""
        number = parse_enterprise_number(enterprise_number)
        company = await db.scalar(select(Company).where(Company.enterprise_number == number))
        if company is not None:
            return company
        name = (name or "").strip()
        if not name or len(name) > 200 or not main_nrn:
            raise Invalid(
                "A new company needs a name and the national registry number of its main account.",
                type="company-incomplete",
            )
        digits = nrn_digits(main_nrn)
        company = Company(enterprise_number=number, name=name)
        db.add(company)
        await db.flush()
        db.add(self._member(company, digits, "main"))
        await audit.record(
            db,
            subject_id=company.id,
            action="acts:company:registered",
            actor=actor,
            target=company.name,
            detail={"enterprise_number": number},
        )
        main = await db.scalar(select(Person).where(Person.nrn_index == self._index(digits)))
        if main is not None:
            await self._record(db, main.id, company, "acts:company:registered", actor)
        return company

    async def mine(self, db: AsyncSession, person: Person) -> list[CompanyView]:
        rows = await db.execute(
            select(Company, CompanyMember.role)
            .join(CompanyMember, CompanyMember.company_id == Company.id)
            .where(CompanyMember.nrn_index == person.nrn_index)
            .order_by(Company.name)
        )
        return [
            CompanyView(company, role, await self._members(db, company) if role == "main" else [])
            for company, role in rows.all()
        ]

    async def managed(self, db: AsyncSession, person: Person, company_id: uuid.UUID) -> Company:
        """A company whose main account `person` holds; any other does not exist for them."""
        company = await db.scalar(
            select(Company)
            .join(CompanyMember, CompanyMember.company_id == Company.id)
            .where(
                Company.id == company_id,
                CompanyMember.nrn_index == person.nrn_index,
                CompanyMember.role == "main",
            )
        )
        if company is None:
            raise CompanyNotFound()
        return company

    async def view(self, db: AsyncSession, person: Person, company_id: uuid.UUID) -> CompanyView:
        company = await self.managed(db, person, company_id)
        return CompanyView(company, "main", await self._members(db, company))

    async def add_member(
        self, db: AsyncSession, person: Person, company_id: uuid.UUID, nrn: str, actor: Actor
    ) -> CompanyMember:
        company = await self.managed(db, person, company_id)
        digits = nrn_digits(nrn)
        exists = await db.scalar(
            select(CompanyMember.id).where(
                CompanyMember.company_id == company.id,
                CompanyMember.nrn_index == self._index(digits),
            )
        )
        if exists is not None:
            raise Conflict(
                "This person already has an account of the company.", type="company-member-exists"
            )
        member = self._member(company, digits, "staff")
        db.add(member)
        await db.flush()
        await self._record(db, person.id, company, "acts:company:member-added", actor, member)
        await db.commit()
        return member

    async def remove_member(
        self,
        db: AsyncSession,
        person: Person,
        company_id: uuid.UUID,
        member_id: uuid.UUID,
        actor: Actor,
    ) -> None:
        company = await self.managed(db, person, company_id)
        member = await db.get(CompanyMember, member_id)
        if member is None or member.company_id != company.id:
            raise NotFound("This account does not exist.", type="company-member-not-found")
        if member.role == "main":
            raise Conflict(
                "The company's main account cannot be removed.", type="company-main-account"
            )
        await db.delete(member)
        await self._record(db, person.id, company, "acts:company:member-removed", actor, member)
        await db.commit()

    # -- internals ---------------------------------------------------------------------

    def _index(self, digits: str) -> str:
        return nrn_index(self.keys, digits)

    def _member(self, company: Company, digits: str, role: str) -> CompanyMember:
        return CompanyMember(
            company_id=company.id,
            nrn_index=self._index(digits),
            nrn_sealed=seal_nrn(self.keys, digits),
            role=role,
        )

    async def _members(self, db: AsyncSession, company: Company) -> list[MemberView]:
        rows = await db.execute(
            select(CompanyMember, Person)
            .outerjoin(Person, Person.nrn_index == CompanyMember.nrn_index)
            .where(CompanyMember.company_id == company.id)
            .order_by(CompanyMember.role, CompanyMember.created_at)
        )
        return [MemberView(m, p, self.masked(m.nrn_sealed)) for m, p in rows.all()]

    async def _record(
        self,
        db: AsyncSession,
        subject_id: uuid.UUID,
        company: Company,
        action: str,
        actor: Actor,
        member: CompanyMember | None = None,
    ) -> None:
        detail = {"company": company.name}
        if member is not None:
            detail |= {"account": self.masked(member.nrn_sealed)}
        await audit.record(
            db,
            subject_id=subject_id,
            action=action,
            actor=actor,
            target=company.name,
            detail=detail,
        )
