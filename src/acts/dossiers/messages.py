"""Messages in a dossier, both ways: a subject and a body (at most 4,000 characters, never
cut), an optional reply to an earlier message of the same dossier, and attachments through
the vault pipeline. Subjects and bodies are sealed at rest, bound to the message's id.

A message with attachments is all or nothing: each attachment is stored as it streams in;
if one is refused (its type, malware, …) the ones before it are withdrawn and no message
is written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.dossiers.access import DossierSide
from acts.dossiers.dossiers import Dossiers
from acts.dossiers.reads import mark_read
from acts.models import DossierMessage, MessageAttachment, NotaryOffice
from acts.seals import Seals
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Invalid, NotFound
from kluis.keys import KeyProvider
from kluis.text import N_
from kluis.web.multipart import FilePart
from vault import Document, Documents, Holder

MAX_BODY = 4000
MAX_SUBJECT = 200
MAX_ATTACHMENTS = 10
RECEIVED = N_("%(office)s sent you a message in your dossier %(reference)s in Kluis.")

audit.ACTION_LABELS.update(
    {
        "acts:dossier:message-sent": N_("Message sent in a dossier"),
        "acts:dossier:attachment-withdrawn": N_("Attachment withdrawn with a refused message"),
    }
)


class MessageNotFound(NotFound):
    default_type = "message-not-found"
    default_message = N_("This message does not exist.")


@dataclass(frozen=True)
class Message:
    row: DossierMessage
    subject: str
    body: str
    attachments: list[Document]
    reply_to: Message | None = None


def check_message(subject: str, body: str) -> tuple[str, str]:
    """Both required; the body at most 4,000 characters (counted as characters, line ends
    as one), refused above that rather than cut."""
    subject, body = subject.strip(), body.replace("\r\n", "\n")
    if not subject or len(subject) > MAX_SUBJECT:
        raise Invalid(
            "A message needs a subject of at most %(max)s characters.",
            type="message-subject-invalid",
            params={"max": MAX_SUBJECT},
        )
    if not body.strip():
        raise Invalid("A message needs a body.", type="message-body-missing")
    if len(body) > MAX_BODY:
        raise Invalid(
            "A message is at most %(max)s characters; this one has %(count)s.",
            type="message-too-long",
            params={"max": MAX_BODY, "count": len(body)},
        )
    return subject, body


def message_aad(message_id: uuid.UUID, part: str) -> bytes:
    return f"dossier-message:{part}:".encode() + message_id.bytes


class Messages:
    def __init__(
        self, keys: KeyProvider, dossiers: Dossiers, documents: Documents, seals: Seals
    ) -> None:
        self.keys = keys
        self.dossiers = dossiers
        self.documents = documents
        self.seals = seals

    async def list(self, db: AsyncSession, side: DossierSide) -> list[Message]:
        """Newest first, each reply with the message it answers; marks the tab read."""
        rows = (
            await db.scalars(
                select(DossierMessage)
                .where(DossierMessage.dossier_id == side.dossier.id)
                .order_by(DossierMessage.created_at.desc())
            )
        ).all()
        attachments: dict[uuid.UUID, list[Document]] = {row.id: [] for row in rows}
        found = await db.execute(
            select(MessageAttachment.message_id, Document)
            .join(Document, Document.id == MessageAttachment.document_id)
            .where(MessageAttachment.message_id.in_(attachments))
            .order_by(Document.created_at)
        )
        for message_id, document in found.all():
            attachments[message_id].append(document)
        plain = {row.id: self._open(row, attachments[row.id]) for row in rows}
        messages = [
            Message(m.row, m.subject, m.body, m.attachments, plain.get(m.row.reply_to_id))
            if m.row.reply_to_id
            else m
            for m in plain.values()
        ]
        await mark_read(db, side, "messages")
        return messages

    async def attachment(
        self,
        db: AsyncSession,
        side: DossierSide,
        message_id: uuid.UUID,
        document_id: uuid.UUID,
    ) -> Document:
        document = await db.scalar(
            select(Document)
            .join(MessageAttachment, MessageAttachment.document_id == Document.id)
            .join(DossierMessage, DossierMessage.id == MessageAttachment.message_id)
            .where(
                DossierMessage.dossier_id == side.dossier.id,
                DossierMessage.id == message_id,
                Document.id == document_id,
            )
        )
        if document is None:
            raise NotFound("This attachment does not exist.", type="attachment-not-found")
        return document

    async def send(
        self,
        db: AsyncSession,
        side: DossierSide,
        *,
        subject: str,
        body: str,
        reply_to: uuid.UUID | None,
        attachments: AsyncIterator[FilePart] | None,
        actor: Actor,
    ) -> DossierMessage:
        """Checked before any attachment is read; written only when every one was stored."""
        dossier = side.dossier
        subject, body = check_message(subject, body)
        if reply_to is not None:
            original = await db.get(DossierMessage, reply_to)
            if original is None or original.dossier_id != dossier.id:
                raise Invalid(
                    "The message replied to is not in this dossier.", type="message-reply-unknown"
                )
        stored: list[Document] = []
        try:
            async for part in attachments or _nothing():
                if len(stored) >= MAX_ATTACHMENTS:
                    raise Invalid(
                        "A message has at most %(max)s attachments.",
                        type="message-attachments-too-many",
                        params={"max": MAX_ATTACHMENTS},
                    )
                stored.append(await self._store(db, side, part, actor))
            message = DossierMessage(
                id=uuid.uuid4(),
                dossier_id=dossier.id,
                side=side.side,
                author_id=side.reader_id,
                author_label=side.label,
                reply_to_id=reply_to,
            )
            message.subject_sealed = self.keys.seal(
                subject.encode(), message_aad(message.id, "subject")
            )
            message.body_sealed = self.keys.seal(body.encode(), message_aad(message.id, "body"))
            db.add(message)
            await db.flush()
            for document in stored:
                db.add(MessageAttachment(message_id=message.id, document_id=document.id))
            await self.dossiers.record(
                db,
                dossier,
                "acts:dossier:message-sent",
                actor,
                detail={"message": str(message.id), "attachments": len(stored)},
            )
            if side.side == "office":
                office = await db.get(NotaryOffice, dossier.office_id)
                params = {"office": office.name if office else "", "reference": dossier.reference}
                await self.dossiers.notify_clients(db, dossier, RECEIVED, params, tab="messages")
            await db.commit()
        except BaseException:
            await asyncio.shield(self._withdraw(db, side, stored, actor))
            raise
        return message

    # -- internals ---------------------------------------------------------------------

    def _open(self, row: DossierMessage, attachments: list[Document]) -> Message:
        subject = self.keys.open(row.subject_sealed, message_aad(row.id, "subject")).decode()
        body = self.keys.open(row.body_sealed, message_aad(row.id, "body")).decode()
        return Message(row, subject, body, attachments)

    async def _store(
        self, db: AsyncSession, side: DossierSide, part: FilePart, actor: Actor
    ) -> Document:
        """One attachment, held by the office (sealed when the office sends it)."""

        async def sealed(document: Document) -> None:
            if side.member is not None:
                document.seal = await self.seals.seal(
                    db, side.member.office, sha256=document.sha256, name=document.name
                )

        return await self.documents.upload(
            db,
            Holder.office(side.dossier.office_id),
            name=part.filename,
            categories=[],
            labels=[],
            body=part.body,
            declared_size=None,
            actor=actor,
            also=sealed,
        )

    async def _withdraw(
        self, db: AsyncSession, side: DossierSide, stored: list[Document], actor: Actor
    ) -> None:
        """Attachments of a message that was not written: rows and fragments go."""
        await db.rollback()
        if not stored:
            return
        await db.execute(delete(Document).where(Document.id.in_([d.id for d in stored])))
        for document in stored:
            await audit.record(
                db,
                subject_id=side.dossier.office_id,
                action="acts:dossier:attachment-withdrawn",
                actor=actor,
                target=document.name,
                detail={"document": str(document.id), "dossier": str(side.dossier.id)},
            )
        await db.commit()
        for document in stored:
            await self.documents.engine.destroy(document.id)


async def _nothing() -> AsyncIterator[FilePart]:
    return
    yield
