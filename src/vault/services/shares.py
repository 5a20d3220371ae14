"""Shares: one document of its owner, given to one of their contacts, now or at death.

What a recipient may do with a share — see it, download it, copy it into their own vault —
stops the moment it is revoked: every such use reads the share row again. Both sides'
histories record each use. A share made for "at death" stays the owner's secret until then.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import Person
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Conflict, NotFound
from kluis.text import N_
from vault.domain import check_not_frozen, check_share_when
from vault.models import Document, Share
from vault.services.contacts import Contacts
from vault.services.documents import Documents

# Mails and notifications name who, never the document: its name may say too much.
SHARED = N_("%(name)s shared a document with you in Kluis.")
RELEASED = N_("%(name)s died and left you documents in Kluis.")


class ShareNotFound(NotFound):
    default_type = "share-not-found"


@dataclass(frozen=True)
class ReceivedShare:
    share: Share
    document: Document
    owner: Person


def active() -> ColumnElement[bool]:
    """Shares the recipient may use. `at_death` ones become usable through succession."""
    return Share.takes_effect == "now"


class Shares:
    def __init__(
        self, documents: Documents, contacts: Contacts, notifications: Notifications
    ) -> None:
        self.documents = documents
        self.contacts = contacts
        self.notifications = notifications

    async def share(
        self,
        db: AsyncSession,
        owner: Person,
        document_id: uuid.UUID,
        contact_id: uuid.UUID,
        when: str,
        actor: Actor,
    ) -> tuple[Share, Person]:
        check_not_frozen(owner)
        document = await self.documents.get(db, owner, document_id)
        recipient = (await self.contacts.get(db, owner, contact_id)).person
        when = check_share_when(when)
        exists = await db.scalar(
            select(Share.id).where(
                Share.document_id == document.id, Share.recipient_id == recipient.id
            )
        )
        if exists is not None:
            raise Conflict(
                "This document is already shared with this contact.", type="already-shared"
            )
        share = Share(
            document_id=document.id,
            owner_id=owner.id,
            recipient_id=recipient.id,
            takes_effect=when,
        )
        db.add(share)
        await db.flush()
        await self._record(
            db,
            share,
            document,
            owner,
            recipient,
            actor,
            "vault:share:created",
            "vault:share:received",
        )
        if when == "now":  # one for "at death" is the owner's secret until then
            await self.notifications.notify(
                db, recipient, "share", SHARED, {"name": owner.full_name}, link="/shared"
            )
        await db.commit()
        return share, recipient

    async def release_at_death(self, db: AsyncSession, owner: Person, actor: Actor) -> int:
        """The owner died: their `at_death` shares take effect, in the caller's transaction.
        Each recipient learns of it in their history and by notification."""
        query = (
            select(Share, Document, Person)
            .join(Document, Document.id == Share.document_id)
            .join(Person, Person.id == Share.recipient_id)
            .where(Share.owner_id == owner.id, Share.takes_effect == "at_death")
        )
        released = (await db.execute(query)).all()
        for share, document, recipient in released:
            share.takes_effect = "now"
            await self._record(
                db,
                share,
                document,
                owner,
                recipient,
                actor,
                "vault:share:released",
                "vault:share:released",
            )
        for recipient in {r.id: r for _s, _d, r in released}.values():
            await self.notifications.notify(
                db, recipient, "share", RELEASED, {"name": owner.full_name}, link="/shared"
            )
        return len(released)

    async def of_document(
        self, db: AsyncSession, owner: Person, document_id: uuid.UUID
    ) -> list[tuple[Share, Person]]:
        document = await self.documents.get(db, owner, document_id)
        query = (
            select(Share, Person)
            .join(Person, Person.id == Share.recipient_id)
            .where(Share.document_id == document.id)
            .order_by(Share.created_at)
        )
        return [(s, p) for s, p in (await db.execute(query)).all()]

    async def by_document(
        self, db: AsyncSession, owner: Person
    ) -> dict[uuid.UUID, list[tuple[Share, Person]]]:
        """Every share of `owner`'s documents, by document (the vault page)."""
        query = (
            select(Share, Person)
            .join(Person, Person.id == Share.recipient_id)
            .where(Share.owner_id == owner.id)
            .order_by(Share.created_at)
        )
        found: dict[uuid.UUID, list[tuple[Share, Person]]] = {}
        for share, person in (await db.execute(query)).all():
            found.setdefault(share.document_id, []).append((share, person))
        return found

    async def revoke(
        self, db: AsyncSession, owner: Person, share_id: uuid.UUID, actor: Actor
    ) -> None:
        share = await db.get(Share, share_id, with_for_update=True)
        if share is None or share.owner_id != owner.id:
            raise ShareNotFound("This share does not exist.")
        document = await db.get(Document, share.document_id)
        recipient = await db.get(Person, share.recipient_id)
        assert document is not None and recipient is not None  # foreign keys cascade
        await db.delete(share)
        action = "vault:share:revoked"
        await self._record(db, share, document, owner, recipient, actor, action, action)
        await db.commit()

    async def shared_with_me(self, db: AsyncSession, person: Person) -> list[ReceivedShare]:
        query = self._received(person).where(active()).order_by(Share.created_at.desc())
        return [ReceivedShare(*row) for row in (await db.execute(query)).all()]

    async def view(
        self, db: AsyncSession, person: Person, share_id: uuid.UUID, actor: Actor
    ) -> ReceivedShare:
        received = await self.received(db, person, share_id)
        await self._used(db, received, person, actor, "vault:share:viewed")
        await db.commit()
        return received

    async def received(
        self, db: AsyncSession, person: Person, share_id: uuid.UUID
    ) -> ReceivedShare:
        """A share in effect for `person`; anything else is not found."""
        row = (
            await db.execute(self._received(person).where(Share.id == share_id, active()))
        ).first()
        if row is None:
            raise ShareNotFound("This share does not exist.")
        return ReceivedShare(*row)

    async def content(
        self,
        db: AsyncSession,
        person: Person,
        received: ReceivedShare,
        actor: Actor,
        start: int,
        end: int,
    ) -> AsyncIterator[bytes]:
        """Bytes [start, end] of a share `received` gave `person`; recorded first."""
        stream = await self.documents.stream(received.document, start, end)
        await self._used(db, received, person, actor, "vault:share:downloaded")
        await db.commit()
        return stream

    async def copy(
        self, db: AsyncSession, person: Person, share_id: uuid.UUID, actor: Actor
    ) -> Document:
        """The shared document, copied into `person`'s own vault: theirs from then on."""
        received = await self.received(db, person, share_id)

        async def still_shared(_copy: Document) -> None:
            # Revoked while the content was copied: the copy is not kept.
            if await db.get(Share, share_id, populate_existing=True) is None:
                raise ShareNotFound("This share does not exist.")
            # The copier's own event is the copy's ("vault:document:copied").
            await self._used(db, received, person, actor, "vault:share:copied", mine=False)

        return await self.documents.copy(
            db,
            received.document,
            person,
            origin="copy",
            origin_label=received.owner.full_name,
            actor=actor,
            also=still_shared,
        )

    # -- internals ---------------------------------------------------------------------

    @staticmethod
    def _received(person: Person) -> Select[tuple[Share, Document, Person]]:
        return (
            select(Share, Document, Person)
            .join(Document, Document.id == Share.document_id)
            .join(Person, Person.id == Share.owner_id)
            .where(Share.recipient_id == person.id)
        )

    async def _used(
        self,
        db: AsyncSession,
        received: ReceivedShare,
        recipient: Person,
        actor: Actor,
        action: str,
        *,
        mine: bool = True,
    ) -> None:
        """A recipient's use of a share, in the owner's history and (if `mine`) theirs."""
        r = received
        await self._record(
            db, r.share, r.document, r.owner, recipient, actor, action, action if mine else None
        )

    async def _record(
        self,
        db: AsyncSession,
        share: Share,
        document: Document,
        owner: Person,
        recipient: Person,
        actor: Actor,
        owner_action: str,
        recipient_action: str | None,
    ) -> None:
        """The owner's event, and the recipient's for a share already in effect."""
        await audit.record(
            db,
            subject_id=owner.id,
            action=owner_action,
            actor=actor,
            target=document.name,
            detail={
                "share": str(share.id),
                "recipient": recipient.full_name,
                "when": share.takes_effect,
            },
        )
        if recipient_action is not None and share.takes_effect == "now":
            await audit.record(
                db,
                subject_id=recipient.id,
                action=recipient_action,
                actor=actor,
                target=document.name,
                detail={"share": str(share.id), "owner": owner.full_name},
            )
