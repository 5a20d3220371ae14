"""HTTP for company accounts: my companies; the main account holder adds and removes the
staff's accounts (by NRN, in the body), by API and on the company's page."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts.dossiers.companies import Companies, CompanyView
from acts.dossiers.schemas import CompanyMemberOut, CompanyOut, MemberIn
from idp_bridge import current, request_actor, requires_login


def company_out(view: CompanyView) -> CompanyOut:
    return CompanyOut(
        id=view.company.id,
        name=view.company.name,
        enterprise_number=view.company.enterprise_number,
        role=view.role,
        members=[
            CompanyMemberOut(
                id=m.member.id,
                role=m.member.role,
                name=m.person.full_name if m.person else None,
                nrn_masked=m.nrn_masked,
            )
            for m in view.members
        ],
    )


class CompanyController(Controller):
    path = "/api/v1/companies"
    tags = ["companies"]
    guards = [requires_login]

    @get("/")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        companies: NamedDependency[Companies],
    ) -> list[CompanyOut]:
        """The companies I hold an account of (their accounts, if mine is the main one)."""
        return [company_out(v) for v in await companies.mine(db, current(request).person)]

    @post("/{company_id:uuid}/members", status_code=201)
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        companies: NamedDependency[Companies],
        company_id: FromPath[uuid.UUID],
        data: JSONBody[MemberIn],
    ) -> CompanyOut:
        """Main account holder: add a staff account `{nrn}`."""
        person = current(request).person
        await companies.add_member(db, person, company_id, data.nrn, request_actor(request))
        return company_out(await companies.view(db, person, company_id))

    @delete("/{company_id:uuid}/members/{member_id:uuid}", status_code=204)
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        companies: NamedDependency[Companies],
        company_id: FromPath[uuid.UUID],
        member_id: FromPath[uuid.UUID],
    ) -> None:
        await companies.remove_member(
            db, current(request).person, company_id, member_id, request_actor(request)
        )


class CompanyPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    @get("/companies/{company_id:uuid}")
    async def company_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        companies: NamedDependency[Companies],
        company_id: FromPath[uuid.UUID],
    ) -> Template:
        view = await companies.view(db, current(request).person, company_id)
        return Template("acts/dossiers/company.html", context={"view": view})

    @post("/companies/{company_id:uuid}/members", status_code=303)
    async def add_member_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        companies: NamedDependency[Companies],
        company_id: FromPath[uuid.UUID],
    ) -> Redirect:
        form = await request.form()
        await companies.add_member(
            db,
            current(request).person,
            company_id,
            str(form.get("nrn", "")),
            request_actor(request),
        )
        return Redirect(f"/companies/{company_id}", status_code=303)

    @post("/companies/{company_id:uuid}/members/{member_id:uuid}/remove", status_code=303)
    async def remove_member_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        companies: NamedDependency[Companies],
        company_id: FromPath[uuid.UUID],
        member_id: FromPath[uuid.UUID],
    ) -> Redirect:
        await companies.remove_member(
            db, current(request).person, company_id, member_id, request_actor(request)
        )
        return Redirect(f"/companies/{company_id}", status_code=303)
