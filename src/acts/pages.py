"""Pages of the office vaults and the reference notary.

A citizen: documents offices sent them (accept or refuse, seal shown), sending one of their
documents to an office, choosing their reference notary. A member of an office: the office
vault, with uploads (sealed) and sending to a citizen.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts.office_vault import OfficeVault
from acts.services import NotaryRegister
from idp_bridge import People, current, request_actor, requires_login
from kluis.audit import ACTION_LABELS
from kluis.errors import NotFound
from kluis.text import N_
from vault import Documents

ACTION_LABELS.update(
    {
        "acts:office:document-sent": N_("Document sent to a notary office"),
        "acts:office:offered": N_("Document sent by a notary office"),
        "acts:office:offer-downloaded": N_("Document from a notary office downloaded"),
        "acts:office:offer-accepted": N_("Document from a notary office accepted"),
        "acts:office:offer-refused": N_("Document from a notary office refused"),
    }
)


def _form_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("This notary office is not registered.", type="office-not-found") from exc


class OfficePages(Controller):
    include_in_schema = False
    guards = [requires_login]

    # -- a citizen ----------------------------------------------------------------------

    @get("/from-offices")
    async def offers_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        documents: NamedDependency[Documents],
    ) -> Template:
        offers = await office_vault.offers(db, current(request).person)
        seals = {o.exchange.id: await documents.seal_status(db, o.document) for o in offers}
        return Template("acts/from_offices.html", context={"offers": offers, "seals": seals})

    @post("/from-offices/{exchange_id:uuid}/{answer:str}", status_code=303)
    async def answer(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        exchange_id: FromPath[uuid.UUID],
        answer: FromPath[str],
    ) -> Redirect:
        act = {"accept": OfficeVault.accept, "refuse": OfficeVault.refuse}.get(answer)
        if act is None:
            raise NotFound()
        await act(office_vault, db, current(request).person, exchange_id, request_actor(request))
        return Redirect("/vault" if answer == "accept" else "/from-offices", status_code=303)

    @get("/vault/{document_id:uuid}/send-to-office")
    async def send_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        register: NamedDependency[NotaryRegister],
        document_id: FromPath[uuid.UUID],
        q: FromQuery[str | None] = None,
    ) -> Template:
        person = current(request).person
        document = await documents.get(db, person, document_id)
        return Template(
            "acts/send_to_office.html",
            context={
                "document": document,
                "offices": await register.search(db, q),
                "preferred": person.preferred_office_id,
                "q": q or "",
            },
        )

    @post("/vault/{document_id:uuid}/send-to-office", status_code=303)
    async def send(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        document_id: FromPath[uuid.UUID],
    ) -> Redirect:
        form = await request.form()
        await office_vault.send_to_office(
            db,
            current(request).person,
            document_id,
            _form_uuid(form.get("office_id")),
            confidential=form.get("confidential") == "yes",
            actor=request_actor(request),
        )
        return Redirect("/vault", status_code=303)

    @get("/reference-notary")
    async def reference_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        register: NamedDependency[NotaryRegister],
        q: FromQuery[str | None] = None,
    ) -> Template:
        person = current(request).person
        chosen = person.preferred_office_id
        return Template(
            "acts/reference_notary.html",
            context={
                "offices": await register.search(db, q),
                "chosen": await register.office(db, chosen) if chosen else None,
                "q": q or "",
            },
        )

    @post("/reference-notary", status_code=303)
    async def choose_reference(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        people: NamedDependency[People],
    ) -> Redirect:
        form = await request.form()
        office = form.get("office_id")
        await people.update_profile(
            db,
            current(request).person,
            preferred_office_id=_form_uuid(office) if office else None,
            actor=request_actor(request),
        )
        return Redirect("/reference-notary", status_code=303)

    # -- inside an office ---------------------------------------------------------------

    @get("/offices/{office_id:uuid}/vault")
    async def office_vault_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        documents: NamedDependency[Documents],
        office_id: FromPath[uuid.UUID],
    ) -> Template:
        member = await office_vault.membership(db, request, office_id)
        return Template(
            "acts/office_vault.html",
            context={
                "member": member,
                "documents": await office_vault.list(db, member),
                "max_upload": documents.settings.vault.max_upload_bytes,
            },
        )

    @post("/offices/{office_id:uuid}/vault/{document_id:uuid}/send", status_code=303)
    async def send_to_citizen(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        office_vault: NamedDependency[OfficeVault],
        office_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
    ) -> Redirect:
        member = await office_vault.membership(db, request, office_id)
        form = await request.form()
        await office_vault.send_to_citizen(
            db, member, document_id, str(form.get("nrn", "")), request_actor(request)
        )
        return Redirect(f"/offices/{office_id}/vault", status_code=303)
