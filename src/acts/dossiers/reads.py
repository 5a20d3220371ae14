"""What each reader has read of a dossier: a mark per reader (a person, or an office's
software client) and tab; opening a tab moves it to now. Unread is what others put on a
tab since."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts.dossiers.access import DossierSide
from acts.models import DossierDocument, DossierMessage, DossierRead
from acts.models.dossiers import DOSSIER_TABS


async def mark_read(db: AsyncSession, side: DossierSide, tab: str) -> None:
    """Opening a tab: everything on it until now counts as read by this reader."""
    query = select(DossierRead).where(
        DossierRead.dossier_id == side.dossier.id,
        DossierRead.reader_id == side.reader_id,
        DossierRead.tab == tab,
    )
    mark = await db.scalar(query)
    if mark is None:
        mark = DossierRead(dossier_id=side.dossier.id, reader_id=side.reader_id, tab=tab)
        db.add(mark)
    mark.read_at = datetime.now(UTC)
    try:
        await db.commit()
    except IntegrityError:  # the same tab opened twice at once: one mark is enough
        await db.rollback()


async def unread_counts(
    db: AsyncSession, ids: list[uuid.UUID], reader_id: uuid.UUID
) -> dict[uuid.UUID, dict[str, int]]:
    """Per dossier and tab: what others put there since the reader last opened it."""
    counts = {i: dict.fromkeys(DOSSIER_TABS, 0) for i in ids}
    if not ids:
        return counts
    documents = select(DossierDocument.dossier_id, DossierDocument.tab, func.count())
    documents = _unseen(documents, DossierDocument, DossierDocument.tab, ids, reader_id)
    messages = select(DossierMessage.dossier_id, literal_column("'messages'"), func.count())
    messages = _unseen(messages, DossierMessage, literal_column("'messages'"), ids, reader_id)
    for query in (
        documents.group_by(DossierDocument.dossier_id, DossierDocument.tab),
        messages.group_by(DossierMessage.dossier_id),
    ):
        for dossier_id, tab, count in (await db.execute(query)).all():
            counts[dossier_id][tab] = count
    return counts


def _unseen(
    query: Select[Any],
    model: type[DossierDocument] | type[DossierMessage],
    tab: ColumnElement[str],
    ids: list[uuid.UUID],
    reader_id: uuid.UUID,
) -> Select[Any]:
    read = and_(
        DossierRead.dossier_id == model.dossier_id,
        DossierRead.reader_id == reader_id,
        DossierRead.tab == tab,
    )
    return query.outerjoin(DossierRead, read).where(
        model.dossier_id.in_(ids),
        or_(model.author_id.is_(None), model.author_id != reader_id),
        or_(DossierRead.read_at.is_(None), model.created_at > DossierRead.read_at),
    )
