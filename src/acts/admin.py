"""The office's administration page, for its notaries: the office's details and members,
adding a member by national registry number and role, removing one.

Only the office's notaries reach it; staff, other offices and the office's software get
404. Roles are read at login, so a change takes effect at the member's next login.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership
from acts.office_vault import OfficeVault
from acts.services import NotaryRegister
from idp_bridge import request_actor, requires_login
from kluis.errors import NotFound


async def notary_of(
    db: AsyncSession,
    request: Request[Any, Any, Any],
    office_vault: OfficeVault,
    office_id: uuid.UUID,
) -> Membership:
    """The caller as a notary of the office in person; for anyone else it does not exist."""
    member = await office_vault.membership(db, request, office_id)
    if member.role != "notary":
        raise NotFound("This notary office is not registered.", type="office-not-found")
    return member


class OfficeAdminPages(Controller):
    path = "/offices/{office_id:uuid}/admin"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def admin_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        register: NamedDependency[NotaryRegister],
        office_id: FromPath[uuid.UUID],
    ) -> Template:
        member = await notary_of(db, request, office_vault, office_id)
        return Template(
            "acts/office_admin.html",
            context={
                "office": member.office,
                "members": await register.members(db, member.office),
            },
        )

    @post("/members", status_code=303)
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        register: NamedDependency[NotaryRegister],
        office_id: FromPath[uuid.UUID],
    ) -> Redirect:
        member = await notary_of(db, request, office_vault, office_id)
        form = await request.form()
        await register.add_member(
            db,
            member.office,
            nrn=str(form.get("nrn", "")),  # in the body, never in a URL
            role=str(form.get("role", "")),
            actor=request_actor(request),
            keep_a_notary=True,
        )
        return Redirect(f"/offices/{office_id}/admin", status_code=303)

    @post("/members/{member_id:uuid}/remove", status_code=303)
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        register: NamedDependency[NotaryRegister],
        office_id: FromPath[uuid.UUID],
        member_id: FromPath[uuid.UUID],
    ) -> Redirect:
        member = await notary_of(db, request, office_vault, office_id)
        await register.remove_member_by_id(
            db, member.office, member_id, actor=request_actor(request)
        )
        return Redirect(f"/offices/{office_id}/admin", status_code=303)
