"""Use cases of the notary register (offices and members)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.domain import check_role, nrn_digits, parse_enterprise_number
from acts.models import NotaryOffice, OfficeMember
from idp_bridge import Person, masked_nrn, nrn_index, seal_nrn
from idp_bridge.domain import parse_email
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, Invalid, NotFound
from kluis.keys import KeyProvider
from kluis.text import N_

# Everything of the notary register, deeds and dossiers is of the history's kind "notary".
audit.ACTION_KINDS.update({"acts": "notary"})
audit.ACTION_LABELS.update(
    {
        "acts:office:registered": N_("Notary office registered"),
        "acts:member:registered": N_("Member of the office added or changed"),
        "acts:member:removed": N_("Member of the office removed"),
    }
)


@dataclass(frozen=True)
class MemberView:
    """A member as the office's notaries see them: their name once they have logged in,
    otherwise only the masked national registry number (never the whole number)."""

    member: OfficeMember
    person: Person | None
    masked_nrn: str

    @property
    def label(self) -> str:
        return self.person.full_name if self.person is not None else self.masked_nrn


class NotaryRegister:
    def __init__(self, keys: KeyProvider, *, test_domains: bool = False) -> None:
        self.keys = keys
        self.test_domains = test_domains  # `.test` e-mail addresses (not in production)

    async def add_office(
        self,
        db: AsyncSession,
        *,
        name: str,
        enterprise_number: str,
        municipality: str | None,
        address: str | None = None,
        email: str | None = None,
        actor: Actor,
    ) -> NotaryOffice:
        number = parse_enterprise_number(enterprise_number)
        name = name.strip()
        if not name or len(name) > 200:
            raise Invalid("Give the office's name.", type="office-name-invalid")
        address = (address or "").strip() or None
        if address is not None and len(address) > 300:
            raise Invalid("This address is too long.", type="office-address-invalid")
        email = parse_email(email, test_domains=self.test_domains) if email else None
        exists = await db.scalar(
            select(NotaryOffice).where(NotaryOffice.enterprise_number == number)
        )
        if exists is not None:
            raise Conflict("This office is already registered.", type="office-exists")
        office = NotaryOffice(
            name=name,
            enterprise_number=number,
            municipality=municipality,
            address=address,
            email=email,
        )
        db.add(office)
        await db.flush()
        await audit.record(
            db,
            subject_id=office.id,
            action="acts:office:registered",
            actor=actor,
            target=office.name,
        )
        await db.commit()
        return office

    async def offices(self, db: AsyncSession) -> Sequence[NotaryOffice]:
        return (await db.execute(select(NotaryOffice).order_by(NotaryOffice.name))).scalars().all()

    async def search(
        self, db: AsyncSession, q: str | None, limit: int = 25
    ) -> Sequence[NotaryOffice]:
        """Offices whose name or municipality holds every word of `q`."""
        query = select(NotaryOffice)
        for word in (q or "").lower().split()[:5]:
            query = query.where(
                func.lower(NotaryOffice.name).contains(word, autoescape=True)
                | func.lower(func.coalesce(NotaryOffice.municipality, "")).contains(
                    word, autoescape=True
                )
            )
        return (await db.scalars(query.order_by(NotaryOffice.name).limit(limit))).all()

    async def office(self, db: AsyncSession, office_id: uuid.UUID) -> NotaryOffice:
        office = await db.get(NotaryOffice, office_id)
        if office is None:
            raise NotFound("This notary office is not registered.", type="office-not-found")
        return office

    async def office_name(self, db: AsyncSession, office_id: uuid.UUID) -> str | None:
        return await db.scalar(select(NotaryOffice.name).where(NotaryOffice.id == office_id))

    async def office_by_number(self, db: AsyncSession, enterprise_number: str) -> NotaryOffice:
        number = parse_enterprise_number(enterprise_number)
        office = await db.scalar(
            select(NotaryOffice).where(NotaryOffice.enterprise_number == number)
        )
        if office is None:
            raise NotFound("This notary office is not registered.", type="office-not-found")
        return office

    async def add_member(
        self,
        db: AsyncSession,
        office: NotaryOffice,
        *,
        nrn: str,
        role: str,
        actor: Actor,
        keep_a_notary: bool = False,
    ) -> OfficeMember:
        """Add a member, or change a member's role. `keep_a_notary`: the office's own
        notaries may not leave it without one (the operator, replacing a notary, may)."""
        digits = nrn_digits(nrn)
        index = nrn_index(self.keys, digits)
        member = await db.scalar(
            select(OfficeMember).where(
                OfficeMember.office_id == office.id, OfficeMember.nrn_index == index
            )
        )
        if member is None:
            member = OfficeMember(
                office_id=office.id,
                nrn_index=index,
                nrn_sealed=seal_nrn(self.keys, digits),
                role=check_role(role),
            )
            db.add(member)
        else:
            if keep_a_notary and member.role == "notary" and check_role(role) != "notary":
                await self._keep_a_notary(db, office, member)
            member.role = check_role(role)
        await db.flush()
        await audit.record(
            db,
            subject_id=office.id,
            action="acts:member:registered",
            actor=actor,
            target=str(member.id),
            detail={"role": member.role},
        )
        await db.commit()
        return member

    async def remove_member(
        self, db: AsyncSession, office: NotaryOffice, *, nrn: str, actor: Actor
    ) -> None:
        index = nrn_index(self.keys, nrn_digits(nrn))
        member = await db.scalar(
            select(OfficeMember).where(
                OfficeMember.office_id == office.id, OfficeMember.nrn_index == index
            )
        )
        await self._remove(db, office, member, actor, keep_a_notary=False)

    async def remove_member_by_id(
        self, db: AsyncSession, office: NotaryOffice, member_id: uuid.UUID, *, actor: Actor
    ) -> None:
        """As the office's notaries remove a member: never the office's last notary."""
        member = await db.get(OfficeMember, member_id)
        await self._remove(db, office, member, actor, keep_a_notary=True)

    async def _remove(
        self,
        db: AsyncSession,
        office: NotaryOffice,
        member: OfficeMember | None,
        actor: Actor,
        *,
        keep_a_notary: bool,
    ) -> None:
        if member is None or member.office_id != office.id:
            raise NotFound("This person is not a member of the office.", type="member-not-found")
        if keep_a_notary and member.role == "notary":
            await self._keep_a_notary(db, office, member)
        await db.execute(delete(OfficeMember).where(OfficeMember.id == member.id))
        await audit.record(
            db,
            subject_id=office.id,
            action="acts:member:removed",
            actor=actor,
            target=str(member.id),
            detail={"role": member.role},
        )
        await db.commit()

    async def _keep_a_notary(
        self, db: AsyncSession, office: NotaryOffice, leaving: OfficeMember
    ) -> None:
        """An office always keeps a notary: the last one cannot leave or become staff."""
        others = await db.scalar(
            select(func.count())
            .select_from(OfficeMember)
            .where(
                OfficeMember.office_id == office.id,
                OfficeMember.role == "notary",
                OfficeMember.id != leaving.id,
            )
        )
        if not others:
            raise Conflict("An office keeps at least one notary.", type="last-notary")

    @staticmethod
    def roles() -> Select[tuple[str, str, uuid.UUID | None, str | None]]:
        """The register's roles (kluis.hooks.RoleSource): each member's role in their
        office. The session check reads them for high-assurance sessions only."""
        return select(
            OfficeMember.nrn_index,
            OfficeMember.role,
            NotaryOffice.id.label("scope_id"),
            NotaryOffice.name.label("scope_label"),
        ).join(NotaryOffice, NotaryOffice.id == OfficeMember.office_id)

    async def members(self, db: AsyncSession, office: NotaryOffice) -> list[MemberView]:
        """The office's members, notaries first; people matched by their NRN's index."""
        rows = await db.execute(
            select(OfficeMember, Person)
            .outerjoin(Person, Person.nrn_index == OfficeMember.nrn_index)
            .where(OfficeMember.office_id == office.id)
        )
        views = [
            MemberView(
                member,
                person,
                masked_nrn(self.keys, member.nrn_sealed),
            )
            for member, person in rows
        ]
        return sorted(views, key=lambda v: (v.member.role != "notary", v.label.lower()))
