"""Questionnaires: an office sends one to a client of a dossier, who answers it step by step
and finishes it; the result, as a PDF, goes on the dossier's "delivered" tab.

The office side (members, the office's software) builds and sends, and reads the status;
only the recipient answers. The answers are sealed at rest, bound to the questionnaire's
id. Files and the result PDF go through the vault pipeline, held by the office.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.domain import nrn_digits
from acts.dossiers.access import DossierAccess, DossierSide, client_indexes
from acts.models import CompanyMember, DossierClient, DossierDocument, NotaryOffice
from acts.models.questionnaires import Questionnaire
from acts.questionnaires import domain
from acts.questionnaires.pdf import questionnaire_pdf
from idp_bridge import Person, nrn_index
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, Forbidden, Invalid, NotFound
from kluis.keys import KeyProvider
from kluis.text import N_
from vault import Document, Documents, Holder

SENT = N_("%(office)s sent you a questionnaire: %(title)s.")
QUESTIONNAIRE_KIND = "questionnaire"


class QuestionnaireNotFound(NotFound):
    default_type = "questionnaire-not-found"
    default_message = N_("This questionnaire does not exist.")


class OfficeOnly(Forbidden):
    default_type = "office-only"
    default_message = N_("Only the notary office of this dossier sends questionnaires.")


class RecipientOnly(Forbidden):
    default_type = "recipient-only"
    default_message = N_("Only the client this questionnaire was sent to answers it.")


class QuestionnaireFinished(Conflict):
    default_type = "questionnaire-finished"
    default_message = N_("This questionnaire is finished: its answers can no longer change.")


@dataclass(frozen=True)
class Recipient:
    """Someone of a dossier a questionnaire may go to: a client or a company account."""

    id: uuid.UUID  # the DossierClient or CompanyMember row, for forms
    nrn_index: str
    label: str | None  # their name, once they have logged in


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Questionnaires:
    def __init__(
        self,
        keys: KeyProvider,
        documents: Documents,
        notifications: Notifications,
        dossiers: DossierAccess,
    ) -> None:
        self.keys = keys
        self.documents = documents
        self.notifications = notifications
        self.dossiers = dossiers

    async def open(
        self, db: AsyncSession, request: Request[Any, Any, Any], dossier_id: uuid.UUID
    ) -> DossierSide:
        return await self.dossiers.open(db, request, dossier_id)

    # -- the office side -------------------------------------------------------------------

    def recipient_index(self, nrn: str) -> str:
        """The blind index of a recipient's NRN, as the API names them."""
        return nrn_index(self.keys, nrn_digits(nrn))

    async def recipients(self, db: AsyncSession, side: DossierSide) -> list[Recipient]:
        """The dossier's clients and its company's accounts, by name where known."""
        dossier = side.dossier
        queries = [
            select(DossierClient.id, DossierClient.nrn_index).where(
                DossierClient.dossier_id == dossier.id
            )
        ]
        if dossier.company_id is not None:
            queries.append(
                select(CompanyMember.id, CompanyMember.nrn_index).where(
                    CompanyMember.company_id == dossier.company_id
                )
            )
        rows = [(row_id, index) for query in queries for row_id, index in await db.execute(query)]
        names = {
            p.nrn_index: p.full_name
            for p in await db.scalars(
                select(Person).where(Person.nrn_index.in_([index for _, index in rows]))
            )
        }
        return [Recipient(row_id, index, names.get(index)) for row_id, index in rows]

    async def send(
        self,
        db: AsyncSession,
        side: DossierSide,
        *,
        title: str,
        recipient_index: str,
        questions: list[dict[str, Any]],
        actor: Actor,
    ) -> Questionnaire:
        if side.side != "office" or side.member is None:
            raise OfficeOnly()
        title, checked = domain.check_title(title), domain.check_questions(questions)
        indexes = client_indexes(side.dossier).subquery()
        found = await db.scalar(select(indexes).where(indexes.c.nrn_index == recipient_index))
        if found is None:
            raise Invalid(
                N_("A questionnaire goes to one of the dossier's clients."),
                type="recipient-not-a-client",
            )
        office = side.member.office
        questionnaire = Questionnaire(
            id=uuid.uuid4(),
            dossier_id=side.dossier.id,
            title=title,
            questions=checked,
            recipient_nrn_index=recipient_index,
            status="sent",
            step=0,
            sent_by=side.label,
        )
        db.add(questionnaire)
        await db.flush()
        detail = {"questionnaire": str(questionnaire.id), "dossier": side.dossier.reference}
        await audit.record(
            db,
            subject_id=office.id,
            action="acts:questionnaire:sent",
            actor=actor,
            target=title,
            detail=detail,
        )
        person = await db.scalar(select(Person).where(Person.nrn_index == recipient_index))
        if person is not None:
            await audit.record(
                db,
                subject_id=person.id,
                action="acts:questionnaire:received",
                actor=actor,
                target=title,
                detail={**detail, "office": office.name},
            )
            await self.notifications.notify(
                db,
                person,
                QUESTIONNAIRE_KIND,
                SENT,
                {"office": office.name, "title": title},
                link=f"/dossiers/{side.dossier.id}/questionnaires/{questionnaire.id}",
            )
        await db.commit()
        return questionnaire

    # -- both sides ------------------------------------------------------------------------

    async def list(self, db: AsyncSession, side: DossierSide) -> list[Questionnaire]:
        """The office sees every questionnaire of the dossier; a client those sent to them."""
        query = select(Questionnaire).where(Questionnaire.dossier_id == side.dossier.id)
        if side.side == "client":
            assert side.person is not None
            query = query.where(Questionnaire.recipient_nrn_index == side.person.nrn_index)
        return list(await db.scalars(query.order_by(Questionnaire.created_at.desc())))

    async def get(
        self,
        db: AsyncSession,
        side: DossierSide,
        questionnaire_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> Questionnaire:
        query = select(Questionnaire).where(
            Questionnaire.id == questionnaire_id, Questionnaire.dossier_id == side.dossier.id
        )
        if side.side == "client":
            assert side.person is not None
            query = query.where(Questionnaire.recipient_nrn_index == side.person.nrn_index)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        found = await db.scalar(query)
        if found is None:
            raise QuestionnaireNotFound()
        return found

    def answers(self, questionnaire: Questionnaire) -> domain.Answers:
        if questionnaire.answers_sealed is None:
            return {}
        plain = self.keys.open(questionnaire.answers_sealed, questionnaire.id.bytes)
        return dict(json.loads(plain))

    def _store(self, questionnaire: Questionnaire, answers: domain.Answers, step: int) -> None:
        plain = json.dumps(answers, sort_keys=True).encode()
        questionnaire.answers_sealed = self.keys.seal(plain, questionnaire.id.bytes)
        questionnaire.step = step
        questionnaire.status = "in_progress"

    async def result(self, db: AsyncSession, questionnaire: Questionnaire) -> Document | None:
        if questionnaire.result_document_id is None:
            return None
        return await db.get(Document, questionnaire.result_document_id)

    async def file(
        self, db: AsyncSession, questionnaire: Questionnaire, question_id: str
    ) -> Document:
        """The document a file question was answered with."""
        value = self.answers(questionnaire).get(question_id)
        document = None
        if isinstance(value, dict):
            document = await db.get(Document, uuid.UUID(value["document_id"]))
        if document is None:
            raise NotFound(N_("This file does not exist."), type="document-not-found")
        return document

    # -- the recipient ---------------------------------------------------------------------

    async def _answering(
        self, db: AsyncSession, side: DossierSide, questionnaire_id: uuid.UUID
    ) -> Questionnaire:
        """The questionnaire, locked, if the caller may still answer it."""
        questionnaire = await self.get(db, side, questionnaire_id, lock=True)
        if side.side != "client":
            raise RecipientOnly()
        if questionnaire.status == "finished":
            raise QuestionnaireFinished()
        return questionnaire

    async def save(
        self,
        db: AsyncSession,
        side: DossierSide,
        questionnaire_id: uuid.UUID,
        given: dict[str, Any],
    ) -> Questionnaire:
        """One step: every value checked against its question, or nothing saved."""
        questionnaire = await self._answering(db, side, questionnaire_id)
        answers, step = domain.save_step(
            questionnaire.questions, self.answers(questionnaire), given
        )
        self._store(questionnaire, answers, step)
        await db.commit()
        return questionnaire

    async def attach(
        self,
        db: AsyncSession,
        side: DossierSide,
        questionnaire_id: uuid.UUID,
        question_id: str,
        *,
        name: str | None,
        body: AsyncIterator[bytes],
        declared_size: int | None,
        actor: Actor,
    ) -> Questionnaire:
        """A file question's answer: the file, scanned and encrypted, held by the office."""
        questionnaire = await self._answering(db, side, questionnaire_id)
        domain.with_file(questionnaire.questions, {}, question_id, "", "")  # a file question?

        async def answered(document: Document) -> None:
            locked = await self._answering(db, side, questionnaire_id)
            answers, step = domain.with_file(
                locked.questions, self.answers(locked), question_id, str(document.id), document.name
            )
            self._store(locked, answers, step)

        await self.documents.upload(
            db,
            Holder.office(side.dossier.office_id),
            name=name,
            categories=[],
            labels=[],
            body=body,
            declared_size=declared_size,
            actor=actor,
            also=answered,
        )
        return await self.get(db, side, questionnaire_id)

    async def finish(
        self,
        db: AsyncSession,
        side: DossierSide,
        questionnaire_id: uuid.UUID,
        *,
        actor: Actor,
    ) -> Questionnaire:
        """Every required question answered: the result as a PDF on "delivered", in the
        same transaction as the questionnaire's new status and both histories' entries."""
        questionnaire = await self._answering(db, side, questionnaire_id)
        assert side.person is not None
        person = side.person
        answers = self.answers(questionnaire)
        if missing := domain.missing(questionnaire.questions, answers):
            raise Invalid(
                N_("Some required questions are not answered yet: %(questions)s"),
                type="questionnaire-incomplete",
                params={"questions": "; ".join(q["label"] for q in missing)},
            )
        finished_at = datetime.now(UTC)
        office = await db.get(NotaryOffice, side.dossier.office_id)
        assert office is not None
        data = questionnaire_pdf(
            title=questionnaire.title,
            office=office.name,
            dossier=f"{side.dossier.reference} — {side.dossier.description}",
            answered_by=person.full_name,
            finished_at=finished_at,
            questions=questionnaire.questions,
            answers=answers,
            language=person.language,
        )

        async def finished(document: Document) -> None:
            locked = await self._answering(db, side, questionnaire_id)
            locked.status, locked.finished_at = "finished", finished_at
            locked.result_document_id = document.id
            db.add(
                DossierDocument(
                    dossier_id=side.dossier.id,
                    document_id=document.id,
                    tab="delivered",
                    side="client",
                    author_id=person.id,
                    author_label=person.full_name,
                )
            )
            detail = {"questionnaire": str(locked.id), "dossier": side.dossier.reference}
            for subject in (person.id, side.dossier.office_id):
                await audit.record(
                    db,
                    subject_id=subject,
                    action="acts:questionnaire:finished",
                    actor=actor,
                    target=locked.title,
                    detail=detail,
                )

        await self.documents.upload(
            db,
            Holder.office(side.dossier.office_id),
            name=domain.result_name(questionnaire.title),
            categories=[],
            labels=[],
            body=_body(data),
            declared_size=len(data),
            actor=actor,
            also=finished,
        )
        return await self.get(db, side, questionnaire_id)
