"""HTTP for questionnaires: the office sends one to a dossier's client; the client reads it,
saves it step by step (files too, streamed), and finishes it; both read the result."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import caller_actor, requires_member_or_software
from acts.models import Questionnaire
from acts.questionnaires.schemas import AnswersIn, QuestionnaireIn, QuestionnaireOut
from acts.questionnaires.service import QuestionnaireNotFound, Questionnaires
from kluis.text import N_
from kluis.web.openapi import STREAMED_FILE, Download
from vault.routes.documents import declared_size, download, request_body

QUESTIONNAIRES = "/api/v1/dossiers/{dossier_id:uuid}/questionnaires"


def questionnaire_out(
    questionnaire: Questionnaire, answers: dict[str, Any] | None
) -> QuestionnaireOut:
    return QuestionnaireOut(
        id=questionnaire.id,
        dossier_id=questionnaire.dossier_id,
        title=questionnaire.title,
        status=questionnaire.status,
        step=questionnaire.step,
        questions=questionnaire.questions,
        answers=answers,
        sent_by=questionnaire.sent_by,
        created_at=questionnaire.created_at,
        finished_at=questionnaire.finished_at,
        result_document_id=questionnaire.result_document_id,
    )


class QuestionnaireController(Controller):
    """Questionnaires of a dossier, for its office (send, follow) and its client (answer)."""

    path = QUESTIONNAIRES
    tags = ["dossiers"]
    guards = [requires_member_or_software]

    async def _out(
        self, questionnaires: Questionnaires, side_name: str, questionnaire: Questionnaire
    ) -> QuestionnaireOut:
        """The answers are the client's; the office reads them once the client finished."""
        visible = side_name == "client" or questionnaire.status == "finished"
        return questionnaire_out(
            questionnaire, questionnaires.answers(questionnaire) if visible else None
        )

    @get("/")
    async def list_questionnaires(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
    ) -> list[QuestionnaireOut]:
        """The office: every questionnaire of the dossier; a client: those sent to them."""
        side = await questionnaires.open(db, request, dossier_id)
        return [questionnaire_out(q, None) for q in await questionnaires.list(db, side)]

    @post("/", status_code=201)
    async def send(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        data: JSONBody[QuestionnaireIn],
    ) -> QuestionnaireOut:
        """The office sends a questionnaire to one of the dossier's clients (by NRN)."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.send(
            db,
            side,
            title=data.title,
            recipient_index=questionnaires.recipient_index(data.recipient_nrn),
            questions=[
                {
                    "id": q.id,
                    "kind": q.kind,
                    "label": q.label,
                    "required": q.required,
                    "choices": q.choices,
                }
                for q in data.questions
            ],
            actor=caller_actor(request),
        )
        return questionnaire_out(questionnaire, None)

    @get("/{questionnaire_id:uuid}")
    async def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
    ) -> QuestionnaireOut:
        """The questions, the saved answers, the current step and the status."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.get(db, side, questionnaire_id)
        return await self._out(questionnaires, side.side, questionnaire)

    @put("/{questionnaire_id:uuid}")
    async def save(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
        data: JSONBody[AnswersIn],
    ) -> QuestionnaireOut:
        """Save a step: `{answers: {question_id: value}}`, each checked against its kind."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.save(db, side, questionnaire_id, data.answers)
        return await self._out(questionnaires, side.side, questionnaire)

    @post("/{questionnaire_id:uuid}", status_code=200)
    async def finish(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
    ) -> QuestionnaireOut:
        """Finish: the result, as a PDF, goes on the dossier's "delivered" tab."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.finish(
            db, side, questionnaire_id, actor=caller_actor(request)
        )
        return await self._out(questionnaires, side.side, questionnaire)

    @put(
        "/{questionnaire_id:uuid}/files/{question_id:str}",
        request_max_body_size=None,
        operation_class=STREAMED_FILE,
    )
    async def upload_file(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
        question_id: FromPath[str],
        name: FromQuery[str | None] = None,
    ) -> QuestionnaireOut:
        """A file question's answer: the body is the file, streamed through the vault."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.attach(
            db,
            side,
            questionnaire_id,
            question_id,
            name=name,
            body=request_body(request),
            declared_size=declared_size(request),
            actor=caller_actor(request),
        )
        return await self._out(questionnaires, side.side, questionnaire)

    @get("/{questionnaire_id:uuid}/files/{question_id:str}", operation_class=Download)
    async def file_content(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
        question_id: FromPath[str],
    ) -> Response[Any]:
        """The file a file question was answered with (the office: once finished)."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.get(db, side, questionnaire_id)
        if side.side == "office" and questionnaire.status != "finished":
            raise QuestionnaireNotFound(N_("This file does not exist."), type="document-not-found")
        document = await questionnaires.file(db, questionnaire, question_id)
        return await download(
            request,
            document,
            lambda start, end: questionnaires.documents.content(
                db, document, caller_actor(request), start, end
            ),
        )

    @get("/{questionnaire_id:uuid}/result", operation_class=Download)
    async def result(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        questionnaires: NamedDependency[Questionnaires],
        dossier_id: FromPath[uuid.UUID],
        questionnaire_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The finished questionnaire's PDF (also on the dossier's "delivered" tab)."""
        side = await questionnaires.open(db, request, dossier_id)
        questionnaire = await questionnaires.get(db, side, questionnaire_id)
        document = await questionnaires.result(db, questionnaire)
        if document is None:
            raise QuestionnaireNotFound(
                N_("This questionnaire is not finished yet."), type="result-not-found"
            )
        return await download(
            request,
            document,
            lambda start, end: questionnaires.documents.content(
                db, document, caller_actor(request), start, end
            ),
        )
