"""Use cases of the notary register (offices and members)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.domain import check_role, parse_enterprise_number
from acts.models import NotaryOffice, OfficeMember
from idp_bridge import nrn_index, parse_nrn, seal_nrn
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, NotFound
from kluis.hooks import Role
from kluis.keys import KeyProvider

# Everything of the notary register, deeds and dossiers is of the history's kind "notary".
audit.ACTION_KINDS.update({"acts": "notary"})


class NotaryRegister:
    def __init__(self, keys: KeyProvider) -> None:
        self.keys = keys

    async def add_office(
        self,
        db: AsyncSession,
        *,
        name: str,
        enterprise_number: str,
        municipality: str | None,
        actor: Actor,
    ) -> NotaryOffice:
        number = parse_enterprise_number(enterprise_number)
        exists = await db.scalar(
            select(NotaryOffice).where(NotaryOffice.enterprise_number == number)
        )
        if exists is not None:
            raise Conflict("This office is already registered.", type="office-exists")
        office = NotaryOffice(
            name=name.strip(), enterprise_number=number, municipality=municipality
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
        self, db: AsyncSession, office: NotaryOffice, *, nrn: str, role: str, actor: Actor
    ) -> OfficeMember:
        digits = parse_nrn(nrn).digits
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
        index = nrn_index(self.keys, parse_nrn(nrn).digits)
        result = await db.execute(
            delete(OfficeMember).where(
                OfficeMember.office_id == office.id, OfficeMember.nrn_index == index
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound("This person is not a member of the office.", type="member-not-found")
        await audit.record(db, subject_id=office.id, action="acts:member:removed", actor=actor)
        await db.commit()

    async def roles_for(self, db: AsyncSession, person_nrn_index: str) -> list[Role]:
        """The register's roles for a person (the broker asks only on a high-assurance login)."""
        rows = await db.execute(
            select(OfficeMember.role, NotaryOffice.id, NotaryOffice.name)
            .join(NotaryOffice, NotaryOffice.id == OfficeMember.office_id)
            .where(OfficeMember.nrn_index == person_nrn_index)
        )
        return [Role(name=role, scope_id=oid, scope_label=name) for role, oid, name in rows]
