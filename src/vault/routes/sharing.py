"""HTTP for contacts and shares (API.md, "Contacts and sharing")."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import current, request_actor, requires_login
from kluis.web.openapi import Download
from vault.models import Document, Share
from vault.routes.documents import document_out, download
from vault.schemas import (
    ContactOut,
    DocumentOut,
    InvitationIn,
    InvitationOut,
    SharedDocumentOut,
    ShareIn,
    ShareOut,
)
from vault.services import Contacts, Shares
from vault.services.contacts import ContactView, InvitationView
from vault.services.shares import ReceivedShare


def invitation_out(view: InvitationView) -> InvitationOut:
    invitation = view.invitation
    return InvitationOut(
        id=invitation.id,
        direction=view.direction,
        email=invitation.email,
        inviter=view.inviter_name,
        status=invitation.status,
        created_at=invitation.created_at,
    )


def contact_out(view: ContactView) -> ContactOut:
    return ContactOut(
        id=view.contact.id,
        given_name=view.person.given_name,
        surname=view.person.surname,
        full_name=view.person.full_name,
        since=view.contact.created_at,
    )


def share_out(share: Share, recipient_name: str) -> ShareOut:
    return ShareOut(
        id=share.id,
        document_id=share.document_id,
        recipient=recipient_name,
        when=share.takes_effect,
        created_at=share.created_at,
    )


def shared_out(received: ReceivedShare) -> SharedDocumentOut:
    document: Document = received.document
    return SharedDocumentOut(
        id=received.share.id,
        owner=received.owner.full_name,
        name=document.name,
        size=document.size,
        sha256=document.sha256,
        media_type=document.media_type,
        shared_at=received.share.created_at,
    )


class ContactController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts and sharing"]
    guards = [requires_login]

    @post("/invitations", status_code=201)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        data: JSONBody[InvitationIn],
    ) -> InvitationOut:
        person = current(request).person
        invitation = await contacts.invite(db, person, data.email, request_actor(request))
        return invitation_out(InvitationView(invitation, "outgoing", person.full_name))

    @get("/invitations")
    async def invitations(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
    ) -> list[InvitationOut]:
        return [invitation_out(v) for v in await contacts.invitations(db, current(request).person)]

    @post("/invitations/{invitation_id:uuid}/accept", status_code=201)
    async def accept(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        invitation_id: FromPath[uuid.UUID],
    ) -> ContactOut:
        person = current(request).person
        contact = await contacts.accept(db, person, invitation_id, request_actor(request))
        return contact_out(await contacts.get(db, person, contact.id))

    @post("/invitations/{invitation_id:uuid}/decline", status_code=204)
    async def decline(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        invitation_id: FromPath[uuid.UUID],
    ) -> None:
        await contacts.decline(db, current(request).person, invitation_id, request_actor(request))

    @delete("/invitations/{invitation_id:uuid}", status_code=204)
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        invitation_id: FromPath[uuid.UUID],
    ) -> None:
        """Withdraw an invitation one sent and that is not answered yet."""
        await contacts.withdraw(db, current(request).person, invitation_id, request_actor(request))

    @get("/")
    async def list_contacts(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
    ) -> list[ContactOut]:
        return [contact_out(v) for v in await contacts.list(db, current(request).person)]

    @get("/{contact_id:uuid}")
    async def get_contact(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        contact_id: FromPath[uuid.UUID],
    ) -> ContactOut:
        return contact_out(await contacts.get(db, current(request).person, contact_id))

    @delete("/{contact_id:uuid}", status_code=204)
    async def remove(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        contacts: NamedDependency[Contacts],
        contact_id: FromPath[uuid.UUID],
    ) -> None:
        """Stop being contacts: every share between the two ends too."""
        await contacts.remove(db, current(request).person, contact_id, request_actor(request))


class ShareController(Controller):
    path = "/api/v1"
    tags = ["contacts and sharing"]
    guards = [requires_login]

    @post("/documents/{document_id:uuid}/shares", status_code=201)
    async def share(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        document_id: FromPath[uuid.UUID],
        data: JSONBody[ShareIn],
    ) -> ShareOut:
        share, recipient = await shares.share(
            db,
            current(request).person,
            document_id,
            data.contact_id,
            data.when,
            request_actor(request),
        )
        return share_out(share, recipient.full_name)

    @get("/documents/{document_id:uuid}/shares")
    async def document_shares(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        document_id: FromPath[uuid.UUID],
    ) -> list[ShareOut]:
        found = await shares.of_document(db, current(request).person, document_id)
        return [share_out(share, person.full_name) for share, person in found]

    @delete("/shares/{share_id:uuid}", status_code=204)
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        share_id: FromPath[uuid.UUID],
    ) -> None:
        await shares.revoke(db, current(request).person, share_id, request_actor(request))

    @get("/shared-with-me")
    async def shared_with_me(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
    ) -> list[SharedDocumentOut]:
        return [shared_out(r) for r in await shares.shared_with_me(db, current(request).person)]

    @get("/shared-with-me/{share_id:uuid}")
    async def view_shared(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        share_id: FromPath[uuid.UUID],
    ) -> SharedDocumentOut:
        """A shared document's details; looking is recorded in both histories."""
        person = current(request).person
        return shared_out(await shares.view(db, person, share_id, request_actor(request)))

    @get("/shared-with-me/{share_id:uuid}/content", operation_class=Download)
    async def shared_content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        share_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        person = current(request).person
        received = await shares.received(db, person, share_id)
        return await download(
            request,
            received.document,
            lambda start, end: shares.content(
                db, person, received, request_actor(request), start, end
            ),
        )

    @post("/shared-with-me/{share_id:uuid}/copy", status_code=201)
    async def copy(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        shares: NamedDependency[Shares],
        share_id: FromPath[uuid.UUID],
    ) -> DocumentOut:
        """Copy a shared document into my own vault (it then counts against my quota)."""
        copy = await shares.copy(db, current(request).person, share_id, request_actor(request))
        return document_out(copy)
