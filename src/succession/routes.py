"""HTTP API of succession (API.md, "Succession")."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import current, request_actor, requires_login
from kluis.web.openapi import Download
from succession import Succession
from succession.access import notary_of, recorder_of
from succession.estates import EstateView, Lookup
from succession.inheritances import Inheritance
from succession.models import DeathNotice
from succession.schemas import (
    ChoiceIn,
    ChoiceOut,
    DeathNoticeIn,
    DeathNoticeOut,
    EstateIn,
    EstateOut,
    HeirOut,
    HeirsIn,
    InheritanceOut,
    LookupIn,
    LookupOut,
    OfficeRef,
    WithdrawIn,
)
from vault.routes import document_out, download


def notice_out(notice: DeathNotice) -> DeathNoticeOut:
    return DeathNoticeOut(
        id=notice.id,
        date_of_death=notice.date_of_death,
        reference=notice.reference,
        status=notice.status,
        recorded_by=notice.recorded_by,
        recorded_at=notice.created_at,
        withdrawable_until=notice.safeguard_until,
        erase_at=notice.erase_at,
    )


def lookup_out(found: Lookup) -> LookupOut:
    if found.notice is None or found.person is None:
        return LookupOut(
            vault_exists=None, option=None, reference_office=None, status="no-death-recorded"
        )
    office = found.reference_office
    return LookupOut(
        vault_exists=True,
        option=found.notice.option,
        reference_office=OfficeRef(id=office.id, name=office.name) if office else None,
        status=found.notice.status,
        name=found.person.full_name,
        notice=notice_out(found.notice),
        estate_id=found.estate.id if found.estate else None,
    )


def estate_out(view: EstateView) -> EstateOut:
    return EstateOut(
        id=view.estate.id,
        office_id=view.estate.office_id,
        deceased=view.person.full_name,
        date_of_death=view.notice.date_of_death,
        reference=view.estate.reference,
        opened_by=view.estate.opened_by,
        opened_at=view.estate.created_at,
        status=view.notice.status,
        heirs=[
            HeirOut(nrn_masked=masked, name=person.full_name if person else None)
            for _heir, person, masked in view.heirs
        ],
        transferred_at=view.estate.transferred_at,
        deadline=view.notice.erase_at,
    )


async def inheritance_out(
    db: AsyncSession, succession: Succession, inheritance: Inheritance
) -> InheritanceOut:
    documents = await succession.inheritances.documents_of(db, inheritance)
    return InheritanceOut(
        id=inheritance.heir.id,
        deceased=inheritance.deceased.full_name,
        office=inheritance.office_name,
        transferred_at=inheritance.estate.transferred_at,
        deadline=inheritance.deadline,
        documents=[document_out(d) for d in documents],
    )


class SuccessionController(Controller):
    path = "/api/v1"
    tags = ["succession"]

    @put("/me/succession", guards=[requires_login])
    async def choose(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        data: JSONBody[ChoiceIn],
    ) -> ChoiceOut:
        identity = current(request)
        person = await succession.choices.choose(
            db,
            identity.person,
            data.option,
            confirm_irreversible=data.confirm_irreversible,
            loa=identity.session.loa,
            actor=request_actor(request),
        )
        return ChoiceOut(option=person.succession_option)

    @post("/death-notices", status_code=201)
    async def record_death(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        data: JSONBody[DeathNoticeIn],
    ) -> DeathNoticeOut:
        """A notary, or the registry's API client, records a death."""
        notice, _person = await succession.notices.record(
            db,
            nrn=data.nrn,
            date_of_death=data.date_of_death,
            reference=data.reference,
            recorder=recorder_of(request, data.office_id),
        )
        return notice_out(notice)

    @post("/death-notices/{notice_id:uuid}/withdraw", status_code=200)
    async def withdraw_death(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        notice_id: FromPath[uuid.UUID],
        data: JSONBody[WithdrawIn],
    ) -> DeathNoticeOut:
        """A notary takes back a wrong notice, within the ten days of the safeguard."""
        notice = await succession.notices.withdraw(
            db,
            notice_id,
            reason=data.reason,
            notary=notary_of(request, data.office_id, about_id=True),
        )
        return notice_out(notice)

    @post("/estates/lookup", status_code=200)
    async def lookup(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        data: JSONBody[LookupIn],
    ) -> LookupOut:
        found = await succession.estates.lookup(
            db, nrn=data.nrn, reason=data.reason, notary=notary_of(request, data.office_id)
        )
        return lookup_out(found)

    @post("/estates", status_code=201)
    async def open_estate(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        data: JSONBody[EstateIn],
    ) -> EstateOut:
        view = await succession.estates.open(
            db, nrn=data.nrn, reason=data.reason, notary=notary_of(request, data.office_id)
        )
        return estate_out(view)

    @get("/estates")
    async def estates(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
    ) -> list[EstateOut]:
        """The estates of the notary's office."""
        views = await succession.estates.of_office(db, notary_of(request))
        return [estate_out(v) for v in views]

    @get("/estates/{estate_id:uuid}")
    async def estate(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        estate_id: FromPath[uuid.UUID],
    ) -> EstateOut:
        notary = notary_of(request, about_id=True)
        return estate_out(await succession.estates.get(db, estate_id, notary))

    @put("/estates/{estate_id:uuid}/heirs")
    async def set_heirs(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        estate_id: FromPath[uuid.UUID],
        data: JSONBody[HeirsIn],
    ) -> EstateOut:
        notary = notary_of(request, about_id=True)
        view = await succession.estates.set_heirs(db, estate_id, data.heirs, notary)
        return estate_out(view)

    @post("/estates/{estate_id:uuid}/transfer", status_code=200)
    async def transfer(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        estate_id: FromPath[uuid.UUID],
    ) -> EstateOut:
        view = await succession.estates.transfer(db, estate_id, notary_of(request, about_id=True))
        return estate_out(view)

    @get("/inheritances", guards=[requires_login])
    async def inheritances(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
    ) -> list[InheritanceOut]:
        found = await succession.inheritances.of(db, current(request).person)
        return [await inheritance_out(db, succession, i) for i in found]

    @get(
        "/inheritances/{inheritance_id:uuid}/documents/{document_id:uuid}/content",
        guards=[requires_login],
        operation_class=Download,
    )
    async def content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        inheritance_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        heir = current(request).person
        inheritances = succession.inheritances
        inheritance, document = await inheritances.document(db, heir, inheritance_id, document_id)
        return await download(
            request,
            document,
            lambda start, end: inheritances.content(
                db, heir, inheritance, document, request_actor(request), start, end
            ),
        )

    @post(
        "/inheritances/{inheritance_id:uuid}/documents/{document_id:uuid}/copy",
        status_code=201,
        guards=[requires_login],
    )
    async def copy(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        succession: NamedDependency[Succession],
        inheritance_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Any:
        copied = await succession.inheritances.copy(
            db, current(request).person, inheritance_id, document_id, request_actor(request)
        )
        return document_out(copied)
