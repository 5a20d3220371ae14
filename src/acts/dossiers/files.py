"""A dossier's documents, tab by tab: the office publishes on `correspondence` and
`documents` (sealed, as in its vault); a client delivers on `delivered`. Every file is held
by the office and goes through the vault pipeline (allow-list, scan, encryption); a client
reaches it only through the dossier."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.dossiers.access import DossierSide
from acts.dossiers.dossiers import Dossiers
from acts.dossiers.reads import mark_read
from acts.models import DossierDocument, NotaryOffice
from acts.seals import Seals
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Invalid, NotFound
from kluis.text import N_
from vault import Document, Documents, Holder

OFFICE_TABS = ("correspondence", "documents")
FILE_TABS = (*OFFICE_TABS, "delivered")
PUBLISHED = N_("%(office)s added a document to your dossier %(reference)s in Kluis.")

audit.ACTION_LABELS.update(
    {
        "acts:dossier:document-added": N_("Document added to a dossier"),
        "acts:dossier:document-downloaded": N_("Document of a dossier downloaded"),
    }
)


class DossierDocumentNotFound(NotFound):
    default_type = "document-not-found"
    default_message = N_("This document does not exist.")


@dataclass(frozen=True)
class DossierFile:
    entry: DossierDocument
    document: Document


def check_tab(tab: str | None, allowed: tuple[str, ...] = FILE_TABS) -> str | None:
    if tab is not None and tab not in allowed:
        raise Invalid("This dossier tab does not exist.", type="dossier-tab-invalid")
    return tab


class DossierFiles:
    def __init__(self, dossiers: Dossiers, documents: Documents, seals: Seals) -> None:
        self.dossiers = dossiers
        self.documents = documents
        self.seals = seals

    async def list(self, db: AsyncSession, side: DossierSide, tab: str | None) -> list[DossierFile]:
        """A tab's documents (or every tab's), newest first; opening a tab marks it read."""
        query = (
            select(DossierDocument, Document)
            .join(Document, Document.id == DossierDocument.document_id)
            .where(DossierDocument.dossier_id == side.dossier.id)
            .order_by(DossierDocument.created_at.desc())
        )
        if check_tab(tab) is not None:
            query = query.where(DossierDocument.tab == tab)
        found = [DossierFile(*row) for row in (await db.execute(query)).all()]
        if tab is not None:
            await mark_read(db, side, tab)
        return found

    async def get(self, db: AsyncSession, side: DossierSide, document_id: uuid.UUID) -> DossierFile:
        row = (
            await db.execute(
                select(DossierDocument, Document)
                .join(Document, Document.id == DossierDocument.document_id)
                .where(
                    DossierDocument.dossier_id == side.dossier.id,
                    DossierDocument.document_id == document_id,
                )
            )
        ).first()
        if row is None:
            raise DossierDocumentNotFound()
        return DossierFile(*row)

    async def add(
        self,
        db: AsyncSession,
        side: DossierSide,
        *,
        tab: str | None,
        name: str | None,
        body: AsyncIterator[bytes],
        declared_size: int | None,
        actor: Actor,
    ) -> DossierFile:
        """The office publishes on `correspondence` or `documents`; a client's file always
        lands on `delivered`. The file exists only if all of it went well."""
        if side.side == "client":
            tab = "delivered"
        else:
            tab = check_tab(tab or "", OFFICE_TABS)
        dossier = side.dossier
        entry = DossierDocument(
            dossier_id=dossier.id,
            tab=tab,
            side=side.side,
            author_id=side.reader_id,
            author_label=side.label,
        )

        async def link(document: Document) -> None:
            if side.member is not None:
                document.seal = await self.seals.seal(
                    db, side.member.office, sha256=document.sha256, name=document.name
                )
            entry.document_id = document.id
            db.add(entry)
            await db.flush()
            await self.dossiers.record(
                db,
                dossier,
                "acts:dossier:document-added",
                actor,
                target=document.name,
                detail={"tab": entry.tab, "document": str(document.id)},
            )
            if side.side == "office":
                office = await db.get(NotaryOffice, dossier.office_id)
                params = {"office": office.name if office else "", "reference": dossier.reference}
                await self.dossiers.notify_clients(db, dossier, PUBLISHED, params, tab=entry.tab)

        document = await self.documents.upload(
            db,
            Holder.office(dossier.office_id),
            name=name,
            categories=[],
            labels=[],
            body=body,
            declared_size=declared_size,
            actor=actor,
            also=link,
        )
        return DossierFile(entry, document)

    async def content(
        self,
        db: AsyncSession,
        side: DossierSide,
        document: Document,
        actor: Actor,
        start: int,
        end: int,
    ) -> AsyncIterator[bytes]:
        """The bytes of a document `get` (or a message) gave; recorded in the office's
        history and, for a client, in theirs."""
        if side.person is not None and side.side == "client":
            await audit.record(
                db,
                subject_id=side.person.id,
                action="acts:dossier:document-downloaded",
                actor=actor,
                target=document.name,
                detail={"dossier": str(side.dossier.id), "reference": side.dossier.reference},
            )
        return await self.documents.content(db, document, actor, start, end)
