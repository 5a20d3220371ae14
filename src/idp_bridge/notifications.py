"""Notifications: what happened that a person should know about, in the app and by e-mail.

Each kind (a contact invitation, a new share, a document or a questionnaire from a notary
office, a deed naming the person as a party) can be switched off per channel in the
person's preferences (`notifications`: `"<kind>.<channel>": false`); both channels are on
until they say otherwise. E-mail goes only to a confirmed address, and only once the
transaction that caused it commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.models import Notification, Person
from kluis.errors import Invalid
from kluis.mail import Email
from kluis.settings import Settings
from kluis.tasks import Tasks
from kluis.text import N_
from kluis.web.i18n import gettext, in_language

KINDS = {
    "invitation": N_("Contact invitations"),
    "share": N_("Documents shared with me"),
    "office": N_("Documents from a notary office"),
    "deed": N_("Notarial deeds published for me"),
    "questionnaire": N_("Questionnaires from a notary office"),
    "dossier": N_("New dossiers and documents in my dossiers"),
    "dossier_message": N_("Messages in my dossiers"),
    "succession": N_("Inheritances and death notices"),
}
CHANNELS = {"app": N_("In the app"), "email": N_("By e-mail")}
SUBJECTS = {
    "invitation": N_("Kluis: an invitation to become contacts"),
    "share": N_("Kluis: a document was shared with you"),
    "office": N_("Kluis: a document from your notary office"),
    "deed": N_("Kluis: a notarial deed was published for you"),
    "questionnaire": N_("Kluis: a questionnaire from your notary office"),
    "dossier": N_("Kluis: news in your dossier"),
    "dossier_message": N_("Kluis: a message in your dossier"),
    "succession": N_("Kluis: about a succession"),
}


def check_preferences(preferences: dict[str, bool]) -> dict[str, bool]:
    """Only `<kind>.<channel>` switches, each true or false."""
    known = {f"{kind}.{channel}" for kind in KINDS for channel in CHANNELS}
    unknown = sorted(set(preferences) - known)
    if unknown or not all(isinstance(v, bool) for v in preferences.values()):
        raise Invalid(
            "Unknown notification setting: %(names)s.",
            type="notification-setting-unknown",
            params={"names": ", ".join(unknown) or "?"},
        )
    return preferences


def wants(person: Person, kind: str, channel: str) -> bool:
    return bool((person.notifications or {}).get(f"{kind}.{channel}", True))


class Notifications:
    def __init__(self, settings: Settings, tasks: Tasks) -> None:
        self.settings = settings
        self.tasks = tasks

    async def notify(
        self,
        db: AsyncSession,
        person: Person,
        kind: str,
        message: str,
        params: dict[str, str],
        link: str | None = None,
    ) -> None:
        """Tell `person`, in the caller's transaction, through the channels they keep on."""
        if wants(person, kind, "app"):
            db.add(
                Notification(
                    person_id=person.id, kind=kind, message=message, params=params, link=link
                )
            )
        if person.email and person.email_verified and wants(person, kind, "email"):
            self.mail(db, person.email, person.language, kind, message, params, link)

    def mail(
        self,
        db: AsyncSession,
        address: str,
        language: str,
        kind: str,
        message: str,
        params: dict[str, str],
        link: str | None,
    ) -> None:
        """An e-mail in `language`, sent once `db` commits (also to someone with no account
        yet: an invitation reaches an address)."""
        with in_language(language):
            body = gettext(message, **params)
            if link:
                body += "\n\n" + self.settings.base_url + link
            body += "\n\n" + gettext(
                "You can choose which e-mails you receive on the Notifications page in Kluis."
            )
            self.tasks.send_mail(db, Email(to=address, subject=gettext(SUBJECTS[kind]), body=body))

    async def list(
        self, db: AsyncSession, person: Person, limit: int = 50
    ) -> Sequence[Notification]:
        query = (
            select(Notification)
            .where(Notification.person_id == person.id)
            .order_by(Notification.created_at.desc())
            .limit(limit)
        )
        return (await db.scalars(query)).all()

    async def unread(self, db: AsyncSession, person_id: uuid.UUID) -> int:
        return (
            await db.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.person_id == person_id, Notification.read_at.is_(None))
            )
            or 0
        )

    async def mark_read(self, db: AsyncSession, person: Person) -> None:
        await db.execute(
            update(Notification)
            .where(Notification.person_id == person.id, Notification.read_at.is_(None))
            .values(read_at=datetime.now(UTC))
        )
        await db.commit()
