"""Pages of dossiers: a client's list (search, status filter, progress, unread badges) and
an office's (with the form that opens one); the dossier itself, from either side, with its
four tabs, the message form (a live character count, the server's refusal shown on the
page, replies quoting the original) and uploads. Forms that carry files are read in one
streaming pass (`StreamedForm`); their CSRF field is checked there."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import Membership, caller_actor
from acts.dossiers.access import DossierSide
from acts.dossiers.dossiers import Dossiers
from acts.dossiers.files import DossierFiles, check_tab
from acts.dossiers.messages import MAX_BODY, Messages
from acts.dossiers.schemas import CompanyIn, Step
from acts.models.dossiers import DOSSIER_STATUSES, DOSSIER_TABS
from acts.questionnaires.service import Questionnaires
from idp_bridge import requires_login
from kluis.errors import AppError
from kluis.text import N_
from kluis.web.multipart import StreamedForm, check_form_token, field
from vault import Documents

STATUS_LABELS = {
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "waiting_for_client": N_("Waiting for the client"),
    "closed": N_("Closed"),
}
TAB_LABELS = {
    "correspondence": N_("Correspondence"),
    "documents": N_("Documents"),
    "delivered": N_("Delivered by me"),
    "messages": N_("Messages"),
}


OPEN_FIELDS = (  # the form that opens a dossier
    "reference",
    "description",
    "status",
    "clients",
    "enterprise_number",
    "company_name",
    "main_nrn",
    "steps",
)


def parse_steps(text: str) -> list[Step]:
    """One step a line; a line starting with `[x]` is done."""
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            done = line.lower().startswith("[x]")
            label = line[3:] if done else line.removeprefix("[ ]")
            steps.append(Step(label=label.strip(), done=done))
    return steps


def steps_text(steps: list[dict[str, Any]]) -> str:
    return "\n".join(("[x] " if s.get("done") else "") + s["label"] for s in steps or [])


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


class DossierPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    # -- lists ---------------------------------------------------------------------------

    @get("/dossiers")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
    ) -> Template:
        views = await dossiers.list(db, request, q=q, status=status or None)
        return Template(
            "acts/dossiers/list.html",
            context={"views": views, "q": q or "", "status": status or "", **self._labels()},
        )

    @get("/offices/{office_id:uuid}/dossiers")
    async def office_list_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        office_id: FromPath[uuid.UUID],
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
    ) -> Template:
        member = await dossiers.access.membership(db, request, office_id)
        return await self._office_list(db, request, dossiers, member, q=q, status=status)

    @post("/offices/{office_id:uuid}/dossiers", status_code=303)
    async def open_dossier(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        office_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        member = await dossiers.access.membership(db, request, office_id)
        form = await request.form()
        values = {name: str(form.get(name, "")) for name in OPEN_FIELDS}
        number = values["enterprise_number"].strip()
        company = (
            CompanyIn(
                enterprise_number=number,
                name=values["company_name"] or None,
                main_nrn=values["main_nrn"] or None,
            )
            if number
            else None
        )
        try:
            dossier = await dossiers.open(
                db,
                member,
                reference=values["reference"],
                description=values["description"],
                status=values["status"] or "open",
                clients=values["clients"].split(),
                company=company,
                steps=parse_steps(values["steps"]),
                actor=caller_actor(request),
            )
        except AppError as refusal:  # the form again, with the reason and what was typed
            await db.rollback()  # nothing of it kept; the office read afresh for the page
            member = await dossiers.access.membership(db, request, office_id)
            page = await self._office_list(
                db, request, dossiers, member, values=values, refusal=refusal
            )
            page.status_code = refusal.status
            return page
        return Redirect(f"/dossiers/{dossier.id}", status_code=303)

    # -- one dossier ---------------------------------------------------------------------

    @get("/dossiers/{dossier_id:uuid}")
    async def dossier_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        dossier_messages: NamedDependency[Messages],
        documents: NamedDependency[Documents],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        tab: FromQuery[str | None] = None,
        reply: FromQuery[str | None] = None,
    ) -> Template:
        side = await dossiers.side(db, request, dossier_id)
        return await self._page(
            db,
            dossiers,
            dossier_files,
            dossier_messages,
            documents,
            questionnaires,
            side,
            tab,
            reply=reply,
        )

    @post("/dossiers/{dossier_id:uuid}", status_code=303)
    async def update(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_id: FromPath[uuid.UUID],
    ) -> Redirect:
        side = await dossiers.side(db, request, dossier_id)
        form = await request.form()
        await dossiers.update(
            db,
            side,
            description=None,
            status=str(form.get("status", side.dossier.status)),
            steps=parse_steps(str(form.get("steps", ""))) if "steps" in form else None,
            actor=caller_actor(request),
        )
        return Redirect(f"/dossiers/{dossier_id}", status_code=303)

    @post(
        "/dossiers/{dossier_id:uuid}/messages",
        exclude_from_csrf=True,
        request_max_body_size=None,
        status_code=303,
    )
    async def send_message(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        dossier_messages: NamedDependency[Messages],
        documents: NamedDependency[Documents],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        side = await dossiers.side(db, request, dossier_id)
        form = StreamedForm(request)
        fields = await form.fields()
        check_form_token(request, fields)
        draft = {
            "subject": field(fields, "subject"),
            "body": (fields.get("body") or [""])[0],
            "reply_to": field(fields, "reply_to"),
        }
        try:
            await dossier_messages.send(
                db,
                side,
                subject=draft["subject"],
                body=draft["body"],
                reply_to=_uuid(draft["reply_to"]),
                attachments=form.files(),
                actor=caller_actor(request),
            )
        except AppError as refusal:  # shown on the page, the draft kept
            page = await self._page(
                db,
                dossiers,
                dossier_files,
                dossier_messages,
                documents,
                questionnaires,
                side,
                "messages",
                reply=draft["reply_to"],
                draft=draft,
                refusal=refusal,
            )
            page.status_code = refusal.status
            return page
        return Redirect(f"/dossiers/{dossier_id}?tab=messages", status_code=303)

    @post(
        "/dossiers/{dossier_id:uuid}/documents",
        exclude_from_csrf=True,
        request_max_body_size=None,
        status_code=303,
    )
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        dossiers: NamedDependency[Dossiers],
        dossier_files: NamedDependency[DossierFiles],
        dossier_id: FromPath[uuid.UUID],
    ) -> Redirect:
        side = await dossiers.side(db, request, dossier_id)
        form = StreamedForm(request)
        fields = await form.fields()
        check_form_token(request, fields)
        tab = field(fields, "tab") if side.side == "office" else "delivered"
        check_tab(tab)
        async for part in form.files():
            await dossier_files.add(
                db,
                side,
                tab=tab,
                name=part.filename,
                body=part.body,
                declared_size=None,
                actor=caller_actor(request),
            )
        return Redirect(f"/dossiers/{dossier_id}?tab={tab}", status_code=303)

    # -- internals ---------------------------------------------------------------------

    async def _office_list(
        self,
        db: AsyncSession,
        request: Request[Any, Any, Any],
        dossiers: Dossiers,
        member: Membership,
        *,
        q: str | None = None,
        status: str | None = None,
        values: dict[str, str] | None = None,
        refusal: AppError | None = None,
    ) -> Template:
        views = await dossiers.list(
            db, request, office_id=member.office.id, q=q, status=status or None
        )
        return Template(
            "acts/dossiers/office_list.html",
            context={
                "member": member,
                "views": views,
                "q": q or "",
                "status": status or "",
                "values": values or {},
                "refusal": refusal,
                **self._labels(),
            },
        )

    @staticmethod
    def _labels() -> dict[str, Any]:
        return {
            "statuses": DOSSIER_STATUSES,
            "status_labels": STATUS_LABELS,
            "tabs": DOSSIER_TABS,
            "tab_labels": TAB_LABELS,
        }

    async def _page(
        self,
        db: AsyncSession,
        dossiers: Dossiers,
        files: DossierFiles,
        messages: Messages,
        documents: Documents,
        questionnaires: Questionnaires,
        side: DossierSide,
        tab: str | None,
        *,
        reply: str | None = None,
        draft: dict[str, str] | None = None,
        refusal: AppError | None = None,
    ) -> Template:
        tab = tab if tab in DOSSIER_TABS else "messages"
        listed = await messages.list(db, side) if tab == "messages" else []
        found = await files.list(db, side, tab) if tab != "messages" else []
        replying = next((m for m in listed if str(m.row.id) == reply), None)
        return Template(
            "acts/dossiers/dossier.html",
            context={
                "side": side,
                "view": await dossiers.view(db, side),  # after the tab was marked read
                "tab": tab,
                "messages": listed,
                "files": found,
                "seals": {
                    f.document.id: await documents.seal_status(db, f.document) for f in found
                },
                "replying": replying,
                "questionnaires": await questionnaires.list(db, side),
                "draft": draft or {},
                "refusal": refusal,
                "max_body": MAX_BODY,
                "steps_text": steps_text(side.dossier.steps),
                **self._labels(),
            },
        )
