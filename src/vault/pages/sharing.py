"""Pages for contacts and shares: invitations, the contact list, "shared with me", and
the share and revoke forms of the vault page. Each form posts here and comes back."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import current, request_actor, requires_login
from kluis.audit import ACTION_LABELS
from kluis.errors import NotFound
from kluis.text import N_
from vault.pages.documents import human_size
from vault.services import Contacts, Shares

ACTION_LABELS.update(
    {
        "vault:contact:invited": N_("Contact invited"),
        "vault:contact:withdrawn": N_("Invitation withdrawn"),
        "vault:contact:added": N_("Contact added"),
        "vault:contact:declined": N_("Invitation declined"),
        "vault:contact:removed": N_("Contact removed"),
        "vault:share:created": N_("Document shared"),
        "vault:share:received": N_("Document shared with you"),
        "vault:share:revoked": N_("Share ended"),
        "vault:share:released": N_("Share given at death"),
        "vault:share:viewed": N_("Shared document viewed"),
        "vault:share:downloaded": N_("Shared document downloaded"),
        "vault:share:copied": N_("Shared document copied"),
        "vault:document:copied": N_("Document copied into the vault"),
    }
)
ANSWERS = {"accept": Contacts.accept, "decline": Contacts.decline, "withdraw": Contacts.withdraw}


class SharingPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    @get("/contacts")
    async def contacts_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
    ) -> Template:
        person = current(request).person
        invitations = await contacts.invitations(db, person)
        return Template(
            "vault/contacts.html",
            context={
                "contacts": await contacts.list(db, person),
                "incoming": [i for i in invitations if i.direction == "incoming"],
                "outgoing": [i for i in invitations if i.direction == "outgoing"],
                "confirmed": bool(person.email and person.email_verified),
            },
        )

    @post("/contacts/invite", status_code=303)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
    ) -> Redirect:
        form = await request.form()
        await contacts.invite(
            db, current(request).person, str(form.get("email", "")), request_actor(request)
        )
        return Redirect("/contacts", status_code=303)

    @post("/contacts/invitations/{invitation_id:uuid}/{answer:str}", status_code=303)
    async def answer(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        invitation_id: FromPath[uuid.UUID],
        answer: FromPath[str],
    ) -> Redirect:
        """`accept`, `decline`, or `withdraw` (one's own invitation)."""
        act = ANSWERS.get(answer)
        if act is None:
            raise NotFound()
        await act(contacts, db, current(request).person, invitation_id, request_actor(request))
        return Redirect("/contacts", status_code=303)

    @post("/contacts/{contact_id:uuid}/remove", status_code=303)
    async def remove(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        contact_id: FromPath[uuid.UUID],
    ) -> Redirect:
        await contacts.remove(db, current(request).person, contact_id, request_actor(request))
        return Redirect("/contacts", status_code=303)

    @get("/shared")
    async def shared_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
    ) -> Template:
        received = await shares.shared_with_me(db, current(request).person)
        return Template(
            "vault/shared.html", context={"received": received, "human_size": human_size}
        )

    @post("/shared/{share_id:uuid}/copy", status_code=303)
    async def copy(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        share_id: FromPath[uuid.UUID],
    ) -> Redirect:
        await shares.copy(db, current(request).person, share_id, request_actor(request))
        return Redirect("/vault", status_code=303)

    @post("/vault/{document_id:uuid}/share", status_code=303)
    async def share(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        document_id: FromPath[uuid.UUID],
    ) -> Redirect:
        form = await request.form()
        try:
            contact_id = uuid.UUID(str(form.get("contact_id", "")))
        except ValueError:
            contact_id = uuid.UUID(int=0)  # no such contact: refused as not found
        await shares.share(
            db,
            current(request).person,
            document_id,
            contact_id,
            str(form.get("when", "now")),
            request_actor(request),
        )
        return Redirect("/vault", status_code=303)

    @post("/shares/{share_id:uuid}/revoke", status_code=303)
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        share_id: FromPath[uuid.UUID],
    ) -> Redirect:
        await shares.revoke(db, current(request).person, share_id, request_actor(request))
        return Redirect("/vault", status_code=303)
