"""Telling a notary office about a succession: its notaries in the app and by e-mail (as
they chose), the office's own address by e-mail, and the office's history."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts import NotaryOffice, OfficeMember
from idp_bridge import Person
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.settings import Settings

KIND = "succession"


class OfficeAlerts:
    def __init__(self, settings: Settings, notifications: Notifications) -> None:
        self.settings = settings
        self.notifications = notifications

    async def alert(
        self,
        db: AsyncSession,
        office_id: uuid.UUID,
        message: str,
        params: dict[str, str],
        *,
        action: str,
        actor: Actor,
        target: str | None = None,
    ) -> None:
        """In the caller's transaction: the office's notaries, its mailbox and its history."""
        office = await db.get(NotaryOffice, office_id)
        if office is None:
            return
        notaries = await db.scalars(
            select(Person)
            .join(OfficeMember, OfficeMember.nrn_index == Person.nrn_index)
            .where(OfficeMember.office_id == office_id, OfficeMember.role == "notary")
        )
        desk = f"/offices/{office_id}/succession"
        for notary in notaries:
            await self.notifications.notify(db, notary, KIND, message, params, link=desk)
        if office.email:
            self.notifications.mail(
                db, office.email, self.settings.default_language, KIND, message, params, desk
            )
        await audit.record(
            db, subject_id=office_id, action=action, actor=actor, target=target, detail={}
        )
