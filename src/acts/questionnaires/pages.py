"""Pages of questionnaires: the office's builder, and the client answering one question per
step ("Save and continue", "Back", "Stop for now"), then the result with its PDF.

Every step posts multipart (a file question carries its file) and is read in one streaming
pass by `StreamedForm`; Litestar's CSRF middleware would read the whole form first, so
these posts check the double-submit token themselves, from the form's first field.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from acts.dossiers.access import DossierNotFound, DossierSide
from acts.questionnaires import domain
from acts.questionnaires.service import OfficeOnly, Questionnaires, RecipientOnly
from idp_bridge import request_actor, requires_login
from kluis.audit import ACTION_LABELS
from kluis.errors import AppError, Invalid
from kluis.text import N_
from kluis.web.multipart import StreamedForm, check_form_token, field

ACTION_LABELS.update(
    {
        "acts:questionnaire:sent": N_("Questionnaire sent"),
        "acts:questionnaire:received": N_("Questionnaire received from a notary office"),
        "acts:questionnaire:finished": N_("Questionnaire finished"),
    }
)
BUILDER_ROWS = 10  # blank question rows on the builder


def _base(dossier_id: uuid.UUID) -> str:
    return f"/dossiers/{dossier_id}/questionnaires"


def questions_from_form(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The builder's rows; a row without a question text is left out."""
    rows = []
    for row in range(int(form.get("rows") or BUILDER_ROWS)):
        label = str(form.get(f"label_{row}", "")).strip()
        if not label:
            continue
        choices = str(form.get(f"choices_{row}", ""))
        rows.append(
            {
                "kind": str(form.get(f"kind_{row}", "")),
                "label": label,
                "required": form.get(f"required_{row}") == "yes",
                "choices": [c.strip() for c in choices.split(",") if c.strip()] or None,
            }
        )
    return rows


class QuestionnairePages(Controller):
    include_in_schema = False
    guards = [requires_login]

    async def _office(
        self,
        db: AsyncSession,
        request: Request[Any, Any, Any],
        questionnaires: Questionnaires,
        office_id: uuid.UUID,
        dossier_id: uuid.UUID,
    ) -> DossierSide:
        side = await questionnaires.open(db, request, dossier_id)
        if side.dossier.office_id != office_id:
            raise DossierNotFound()
        return side

    @get("/offices/{office_id:uuid}/dossiers/{dossier_id:uuid}/questionnaires/new")
    async def builder(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        office_id: FromPath[uuid.UUID],
        dossier_id: FromPath[uuid.UUID],
    ) -> Template:
        side = await self._office(db, request, questionnaires, office_id, dossier_id)
        if side.side != "office":
            raise OfficeOnly()
        return await self._builder(db, questionnaires, side)

    async def _builder(
        self,
        db: AsyncSession,
        questionnaires: Questionnaires,
        side: DossierSide,
        values: dict[str, Any] | None = None,
        refusal: AppError | None = None,
    ) -> Template:
        """The builder, empty or again with what was typed and why it was refused."""
        return Template(
            "questionnaires/new.html",
            context={
                "side": side,
                "recipients": await questionnaires.recipients(db, side),
                "kinds": domain.KINDS,
                "rows": range(BUILDER_ROWS),
                "values": values or {},
                "refusal": refusal,
            },
            status_code=refusal.status if refusal else 200,
        )

    @post("/offices/{office_id:uuid}/dossiers/{dossier_id:uuid}/questionnaires", status_code=303)
    async def send(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        office_id: FromPath[uuid.UUID],
        dossier_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        side = await self._office(db, request, questionnaires, office_id, dossier_id)
        form = dict((await request.form()).items())
        chosen = str(form.get("recipient", ""))
        recipients = {str(r.id): r.nrn_index for r in await questionnaires.recipients(db, side)}
        try:
            await questionnaires.send(
                db,
                side,
                title=str(form.get("title", "")),
                # Not one of this dossier's: refused as a recipient who is not a client.
                recipient_index=recipients.get(chosen, ""),
                questions=questions_from_form(form),
                actor=request_actor(request),
            )
        except Invalid as refusal:  # refused before anything was written
            return await self._builder(db, questionnaires, side, form, refusal)
        return Redirect(_base(dossier_id), status_code=303)

    @get("/dossiers/{dossier_id:uuid}/questionnaires")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
    ) -> Template:
        side = await questionnaires.open(db, request, dossier_id)
        return Template(
            "questionnaires/list.html",
            context={"side": side, "questionnaires": await questionnaires.list(db, side)},
        )

    @get("/dossiers/{dossier_id:uuid}/questionnaires/{questionnaire_id:uuid}")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
        at: FromQuery[int | None] = None,
    ) -> Template:
        """One question per step (at the saved step, or `at` going back), the review before
        finishing, or the result once finished."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.get(db, side, questionnaire_id)
        visible = side.side == "client" or questionnaire.status == "finished"
        count = len(questionnaire.questions)
        step = questionnaire.step if at is None else max(0, min(at, count))
        answers = questionnaires.answers(questionnaire) if visible else {}
        return Template(
            "questionnaires/answer.html",
            context={
                "side": side,
                "questionnaire": questionnaire,
                "answers": answers,
                "step": step,
                "count": count,
                "question": questionnaire.questions[step] if step < count else None,
                "missing": domain.missing(questionnaire.questions, answers),
                "shown": domain.shown,
                "base": _base(dossier_id),
            },
        )

    @post(
        "/dossiers/{dossier_id:uuid}/questionnaires/{questionnaire_id:uuid}/step",
        status_code=303,
        exclude_from_csrf=True,
        request_max_body_size=None,
    )
    async def save_step(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
        then: FromQuery[str] = "next",
    ) -> Redirect:
        """Save the step's answer (a file, if one was chosen), then on or away."""
        form = StreamedForm(request)
        fields = await form.fields()
        check_form_token(request, fields)
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.get(db, side, questionnaire_id)
        if side.side != "client":
            raise RecipientOnly()
        _, question = domain.question_by_id(questionnaire.questions, field(fields, "question"))
        saved = questionnaires.answers(questionnaire).get(question["id"])
        uploaded = False
        if question["kind"] == "file":
            async for part in form.files():
                await questionnaires.attach(
                    db,
                    side,
                    questionnaire_id,
                    question["id"],
                    name=part.filename,
                    body=part.body,
                    declared_size=None,
                    actor=request_actor(request),
                )
                uploaded = True
                break
        if not uploaded:  # a file question without a new file keeps the one it has
            value = (
                saved
                if question["kind"] == "file"
                else domain.from_form(question, fields.get("answer", [""])[0])
            )
            await questionnaires.save(db, side, questionnaire_id, {question["id"]: value})
        if then == "stop":
            return Redirect(_base(dossier_id), status_code=303)
        return Redirect(f"{_base(dossier_id)}/{questionnaire_id}", status_code=303)

    @post(
        "/dossiers/{dossier_id:uuid}/questionnaires/{questionnaire_id:uuid}/finish",
        status_code=303,
    )
    async def finish(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
    ) -> Redirect:
        side = await questionnaires.open(db, request, dossier_id)
        await questionnaires.finish(db, side, questionnaire_id, actor=request_actor(request))
        return Redirect(f"{_base(dossier_id)}/{questionnaire_id}", status_code=303)
