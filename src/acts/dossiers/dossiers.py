"""Dossiers: an office opens one for clients (by NRN) or a company, keeps its status and
progress list; both sides see it with what they have not read yet, tab by tab.

Every change is recorded in the office's history and in the history of each client who has
an account; clients are told (in the app, and by e-mail as they chose).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership, software_of
from acts.domain import nrn_digits
from acts.dossiers.access import DossierAccess, DossierSide, client_indexes, visible_to_client
from acts.dossiers.companies import Companies
from acts.dossiers.reads import unread_counts
from acts.models import (
    Company,
    Dossier,
    DossierClient,
    NotaryOffice,
)
from acts.models.dossiers import DOSSIER_STATUSES
from idp_bridge import Person, identity_of, nrn_index, seal_nrn
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, Forbidden, Invalid
from kluis.keys import KeyProvider
from kluis.text import N_

MAX_STEPS = 100
OPENED = N_("%(office)s opened the dossier %(reference)s for you in Kluis.")

audit.ACTION_LABELS.update(
    {
        "acts:dossier:opened": N_("Dossier opened"),
        "acts:dossier:updated": N_("Dossier updated"),
    }
)


class OfficeOnly(Forbidden):
    """Something only the office side of a dossier does (the client sees the dossier, so
    this is not a 404)."""

    default_type = "office-only"
    default_message = N_("Only the notary office can do this in a dossier.")


@dataclass(frozen=True)
class DossierView:
    dossier: Dossier
    side: str
    office_name: str
    company: Company | None
    clients: list[str]  # for the office side
    unread: dict[str, int]

    @property
    def progress(self) -> str:
        return progress(self.dossier)


def progress(dossier: Dossier) -> str:
    """Steps done of all steps: "4 / 10"."""
    steps = dossier.steps or []
    return f"{sum(1 for s in steps if s.get('done'))} / {len(steps)}"


def text(value: str | None, limit: int, kind: str, message: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise Invalid(message, type=kind, params={"max": limit})
    return value


def check_status(status: str) -> str:
    if status not in DOSSIER_STATUSES:
        raise Invalid("This dossier status does not exist.", type="dossier-status-invalid")
    return status


def check_steps(steps: Sequence[Any]) -> list[dict[str, Any]]:
    """The progress list: at most 100 steps, each a label (up to 200 characters) and done."""
    if len(steps) > MAX_STEPS:
        raise Invalid(
            "A dossier has at most %(max)s steps.",
            type="dossier-steps-invalid",
            params={"max": MAX_STEPS},
        )
    return [
        {
            "label": text(s.label, 200, "dossier-steps-invalid", N_("Every step needs a label.")),
            "done": bool(s.done),
        }
        for s in steps
    ]


class Dossiers:
    def __init__(
        self,
        keys: KeyProvider,
        dossier_access: DossierAccess,
        companies: Companies,
        notifications: Notifications,
    ) -> None:
        self.keys = keys
        self.access = dossier_access.access
        self.dossier_access = dossier_access
        self.companies = companies
        self.notifications = notifications

    async def side(
        self, db: AsyncSession, request: Request[Any, Any, Any], dossier_id: uuid.UUID
    ) -> DossierSide:
        return await self.dossier_access.open(db, request, dossier_id)

    # -- the office side -----------------------------------------------------------------

    async def open(
        self,
        db: AsyncSession,
        member: Membership,
        *,
        reference: str,
        description: str,
        status: str,
        clients: Sequence[str],
        company: Any | None,
        steps: Sequence[Any],
        actor: Actor,
    ) -> Dossier:
        """Open a dossier for clients by NRN, or for a company (registered on the way if it
        is not known yet). All or nothing."""
        reference = text(
            reference,
            50,
            "dossier-reference-invalid",
            N_("A dossier needs a reference of at most %(max)s characters."),
        )
        description = text(
            description,
            500,
            "dossier-description-invalid",
            N_("A dossier needs a description of at most %(max)s characters."),
        )
        status, checked_steps = check_status(status), check_steps(steps)
        numbers = list(dict.fromkeys(nrn_digits(n) for n in clients))
        if not numbers and company is None:
            raise Invalid(
                N_("A dossier is for at least one client or a company."),
                type="dossier-clients-missing",
            )
        taken = await db.scalar(
            select(Dossier.id).where(
                Dossier.office_id == member.office.id, Dossier.reference == reference
            )
        )
        if taken is not None:
            raise self._taken()
        found = None
        if company is not None:
            found = await self.companies.ensure(
                db,
                enterprise_number=company.enterprise_number,
                name=company.name,
                main_nrn=company.main_nrn,
                actor=actor,
            )
        dossier = Dossier(
            office_id=member.office.id,
            reference=reference,
            description=description,
            status=status,
            company_id=found.id if found else None,
            steps=checked_steps,
        )
        db.add(dossier)
        await db.flush()
        for digits in numbers:
            db.add(
                DossierClient(
                    dossier_id=dossier.id,
                    nrn_index=nrn_index(self.keys, digits),
                    nrn_sealed=seal_nrn(self.keys, digits),
                )
            )
        await db.flush()
        params = {"office": member.office.name, "reference": dossier.reference}
        await self.record(db, dossier, "acts:dossier:opened", actor, detail=params)
        await self.notify_clients(db, dossier, OPENED, params)
        try:
            await db.commit()
        except IntegrityError as exc:  # the same reference, opened at the same moment
            await db.rollback()
            raise self._taken() from exc
        return dossier

    async def update(
        self,
        db: AsyncSession,
        side: DossierSide,
        *,
        description: str | None,
        status: str | None,
        steps: Sequence[Any] | None,
        actor: Actor,
    ) -> Dossier:
        if side.side != "office":
            raise OfficeOnly()
        dossier = side.dossier
        changed: dict[str, Any] = {}
        if description is not None:
            dossier.description = text(
                description,
                500,
                "dossier-description-invalid",
                N_("A dossier needs a description of at most %(max)s characters."),
            )
            changed["description"] = True
        if status is not None:
            changed["status"] = dossier.status = check_status(status)
        if steps is not None:
            dossier.steps = check_steps(steps)
            changed["progress"] = progress(dossier)
        await self.record(db, dossier, "acts:dossier:updated", actor, detail=changed)
        await db.commit()
        return dossier

    # -- both sides ----------------------------------------------------------------------

    async def list(
        self,
        db: AsyncSession,
        request: Request[Any, Any, Any],
        *,
        office_id: uuid.UUID | None = None,
        q: str | None = None,
        status: str | None = None,
    ) -> list[DossierView]:
        """The caller's dossiers: as a client (in person or through a company) and, for a
        member, their offices'; `office_id` narrows to one office the caller works for."""
        offices = self.access.memberships(request)
        identity = identity_of(request)
        if office_id is not None:
            await self.access.membership(db, request, office_id)
            query = select(Dossier).where(Dossier.office_id == office_id)
        else:
            seen = [Dossier.office_id.in_(offices)] if offices else []
            if identity is not None:
                seen.append(visible_to_client(identity.person))
            if not seen:
                return []
            query = select(Dossier).where(or_(*seen))
        for word in (q or "").lower().split()[:5]:
            query = query.where(
                func.lower(Dossier.reference).contains(word, autoescape=True)
                | func.lower(Dossier.description).contains(word, autoescape=True)
            )
        if status:
            query = query.where(Dossier.status == check_status(status))
        dossiers = (await db.scalars(query.order_by(Dossier.updated_at.desc()).limit(200))).all()
        reader = identity.person.id if identity is not None else self._software_id(request)
        return await self._views(db, dossiers, reader, offices)

    async def view(self, db: AsyncSession, side: DossierSide) -> DossierView:
        offices = [side.dossier.office_id] if side.side == "office" else []
        return (await self._views(db, [side.dossier], side.reader_id, offices))[0]

    async def client_people(self, db: AsyncSession, dossier: Dossier) -> Sequence[Person]:
        """The dossier's clients who have an account, with the company's accounts."""
        query = select(Person).where(Person.nrn_index.in_(client_indexes(dossier)))
        return (await db.scalars(query)).all()

    async def record(
        self,
        db: AsyncSession,
        dossier: Dossier,
        action: str,
        actor: Actor,
        *,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One event in the office's history and one in each client's who has an account."""
        subjects = [dossier.office_id] + [p.id for p in await self.client_people(db, dossier)]
        for subject in subjects:
            await audit.record(
                db,
                subject_id=subject,
                action=action,
                actor=actor,
                target=target or dossier.reference,
                detail={
                    "dossier": str(dossier.id),
                    "reference": dossier.reference,
                    **(detail or {}),
                },
            )

    async def notify_clients(
        self,
        db: AsyncSession,
        dossier: Dossier,
        message: str,
        params: dict[str, str],
        *,
        tab: str | None = None,
        but: uuid.UUID | None = None,
    ) -> None:
        link = f"/dossiers/{dossier.id}" + (f"?tab={tab}" if tab else "")
        # Messages have a switch of their own; a new dossier and its documents share one.
        kind = "dossier_message" if tab == "messages" else "dossier"
        for person in await self.client_people(db, dossier):
            if person.id != but:
                await self.notifications.notify(db, person, kind, message, params, link=link)

    # -- internals ---------------------------------------------------------------------

    def _taken(self) -> Conflict:
        return Conflict(
            "The office already has a dossier with this reference.", type="dossier-reference-taken"
        )

    @staticmethod
    def _software_id(request: Request[Any, Any, Any]) -> uuid.UUID:
        software = software_of(request)
        assert software is not None
        return software.id

    async def _views(
        self,
        db: AsyncSession,
        dossiers: Sequence[Dossier],
        reader_id: uuid.UUID,
        offices: Sequence[uuid.UUID],
    ) -> list[DossierView]:
        ids = [d.id for d in dossiers]
        unread = await unread_counts(db, ids, reader_id)
        office_names = select(NotaryOffice.id, NotaryOffice.name).where(
            NotaryOffice.id.in_({d.office_id for d in dossiers})
        )
        names = {office_id: name for office_id, name in (await db.execute(office_names)).all()}
        companies = {
            c.id: c
            for c in (
                await db.scalars(
                    select(Company).where(
                        Company.id.in_({d.company_id for d in dossiers if d.company_id})
                    )
                )
            ).all()
        }
        views = []
        for dossier in dossiers:
            side = "office" if dossier.office_id in offices else "client"
            clients = await self._clients(db, dossier) if side == "office" else []
            views.append(
                DossierView(
                    dossier,
                    side,
                    names.get(dossier.office_id, ""),
                    companies.get(dossier.company_id),
                    clients,
                    unread[dossier.id],
                )
            )
        return views

    async def _clients(self, db: AsyncSession, dossier: Dossier) -> list[str]:
        rows = await db.execute(
            select(DossierClient.nrn_sealed, Person)
            .outerjoin(Person, Person.nrn_index == DossierClient.nrn_index)
            .where(DossierClient.dossier_id == dossier.id)
        )
        return [p.full_name if p else self.companies.masked(sealed) for sealed, p in rows.all()]
