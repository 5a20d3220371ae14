"""Contacts: invitations by e-mail address, answered by whoever confirms that address.

Both sides of a contact are identified persons; lists show their names, never an NRN.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from idp_bridge import Person
from idp_bridge.domain import parse_email
from idp_bridge.notifications import Notifications
from kluis import audit
from kluis.audit import Actor
from kluis.db import insert_unless_exists
from kluis.errors import Conflict, Invalid, NotFound
from kluis.text import N_
from vault.models import Contact, ContactInvitation, Share

INVITED = N_("%(name)s invites you to become contacts in Kluis.")
INVITED_NEW = N_(
    "%(name)s invites you to become contacts in Kluis, the notaries' digital vault. "
    "Log in with your eID or itsme and confirm this e-mail address to answer."
)


class InvitationNotFound(NotFound):
    default_type = "invitation-not-found"


class ContactNotFound(NotFound):
    default_type = "contact-not-found"


@dataclass(frozen=True)
class InvitationView:
    invitation: ContactInvitation
    direction: str  # "incoming" or "outgoing"
    inviter_name: str


@dataclass(frozen=True)
class ContactView:
    contact: Contact
    person: Person


class Contacts:
    def __init__(self, notifications: Notifications) -> None:
        self.notifications = notifications

    async def invite(
        self, db: AsyncSession, person: Person, email: str, actor: Actor
    ) -> ContactInvitation:
        # Addresses compare in lower case: an invitation reaches whoever confirms it.
        settings = self.notifications.settings
        address = parse_email(email, test_domains=settings.env != "production").lower()
        if person.email and address == person.email.lower():
            raise Invalid("You cannot invite yourself.", type="cannot-invite-self")
        invitee = await self._confirmed_holder(db, address)
        if invitee is not None and await self._contact_row(db, person.id, invitee.id):
            raise Conflict("You are already contacts.", type="already-contacts")
        pending = await db.scalar(
            select(ContactInvitation.id).where(
                ContactInvitation.inviter_id == person.id,
                ContactInvitation.email == address,
                ContactInvitation.status == "pending",
            )
        )
        if pending is not None:
            raise Conflict("You already invited this address.", type="already-invited")
        invitation = ContactInvitation(inviter_id=person.id, email=address, status="pending")
        db.add(invitation)
        await db.flush()
        await audit.record(
            db,
            subject_id=person.id,
            action="vault:contact:invited",
            actor=actor,
            target=address,
            detail={"invitation": str(invitation.id)},
        )
        params = {"name": person.full_name}
        if invitee is not None:
            await self.notifications.notify(
                db, invitee, "invitation", INVITED, params, link="/contacts"
            )
        else:  # nobody has confirmed this address yet: the mail is the invitation
            self.notifications.mail(
                db, address, person.language, "invitation", INVITED_NEW, params, "/contacts"
            )
        await db.commit()
        return invitation

    async def invitations(self, db: AsyncSession, person: Person) -> list[InvitationView]:
        """Pending invitations: those `person` sent, and those waiting for their confirmed
        address."""
        inviter = aliased(Person)
        query = (
            select(ContactInvitation, inviter)
            .join(inviter, inviter.id == ContactInvitation.inviter_id)
            .where(ContactInvitation.status == "pending")
            .where(
                or_(
                    ContactInvitation.inviter_id == person.id,
                    ContactInvitation.email == self._confirmed_address(person),
                )
            )
            .order_by(ContactInvitation.created_at.desc())
        )
        return [
            InvitationView(
                invitation,
                "outgoing" if invitation.inviter_id == person.id else "incoming",
                sender.full_name,
            )
            for invitation, sender in (await db.execute(query)).all()
        ]

    async def accept(
        self, db: AsyncSession, person: Person, invitation_id: uuid.UUID, actor: Actor
    ) -> Contact:
        invitation, inviter = await self._incoming(db, person, invitation_id)
        invitation.status, invitation.answered_by_id = "accepted", person.id
        for owner, other in ((person, inviter), (inviter, person)):
            await insert_unless_exists(
                db,
                Contact,
                ["owner_id", "person_id"],
                id=uuid.uuid4(),
                owner_id=owner.id,
                person_id=other.id,
            )
            await audit.record(
                db,
                subject_id=owner.id,
                action="vault:contact:added",
                actor=actor,
                target=other.full_name,
                detail={"invitation": str(invitation.id)},
            )
        contact = await self._contact_row(db, person.id, inviter.id)
        assert contact is not None  # written just above
        await db.commit()
        return contact

    async def decline(
        self, db: AsyncSession, person: Person, invitation_id: uuid.UUID, actor: Actor
    ) -> None:
        invitation, inviter = await self._incoming(db, person, invitation_id)
        invitation.status, invitation.answered_by_id = "declined", person.id
        # The inviter learns the answer, not who holds the address.
        for subject, target in ((person.id, inviter.full_name), (inviter.id, invitation.email)):
            await audit.record(
                db,
                subject_id=subject,
                action="vault:contact:declined",
                actor=actor,
                target=target,
                detail={"invitation": str(invitation.id)},
            )
        await db.commit()

    async def withdraw(
        self, db: AsyncSession, person: Person, invitation_id: uuid.UUID, actor: Actor
    ) -> None:
        invitation = await db.get(ContactInvitation, invitation_id)
        if invitation is None or invitation.inviter_id != person.id:
            raise InvitationNotFound("This invitation does not exist.")
        if invitation.status != "pending":
            raise Conflict("This invitation was already answered.", type="invitation-answered")
        invitation.status = "withdrawn"
        await audit.record(
            db,
            subject_id=person.id,
            action="vault:contact:withdrawn",
            actor=actor,
            target=invitation.email,
            detail={"invitation": str(invitation.id)},
        )
        await db.commit()

    async def list(self, db: AsyncSession, person: Person) -> list[ContactView]:
        query = (
            select(Contact, Person)
            .join(Person, Person.id == Contact.person_id)
            .where(Contact.owner_id == person.id)
            .order_by(Person.surname, Person.given_name)
        )
        return [ContactView(c, p) for c, p in (await db.execute(query)).all()]

    async def get(self, db: AsyncSession, person: Person, contact_id: uuid.UUID) -> ContactView:
        row = (
            await db.execute(
                select(Contact, Person)
                .join(Person, Person.id == Contact.person_id)
                .where(Contact.id == contact_id, Contact.owner_id == person.id)
            )
        ).first()
        if row is None:
            raise ContactNotFound("This contact does not exist.")
        return ContactView(*row)

    async def remove(
        self, db: AsyncSession, person: Person, contact_id: uuid.UUID, actor: Actor
    ) -> None:
        """Both sides stop being contacts, and every share between them ends."""
        other = (await self.get(db, person, contact_id)).person
        pair = [(person.id, other.id), (other.id, person.id)]
        shares = (
            await db.scalars(
                select(Share).where(
                    or_(*((Share.owner_id == a) & (Share.recipient_id == b) for a, b in pair))
                )
            )
        ).all()
        for share in shares:
            await db.delete(share)
        await db.execute(
            delete(Contact).where(
                or_(*((Contact.owner_id == a) & (Contact.person_id == b) for a, b in pair))
            )
        )
        for subject, target in ((person.id, other.full_name), (other.id, person.full_name)):
            ended = sum(1 for s in shares if subject in (s.owner_id, s.recipient_id))
            await audit.record(
                db,
                subject_id=subject,
                action="vault:contact:removed",
                actor=actor,
                target=target,
                detail={"shares_ended": ended},
            )
        await db.commit()

    # -- internals ---------------------------------------------------------------------

    @staticmethod
    def _confirmed_address(person: Person) -> str | None:
        return person.email.lower() if person.email and person.email_verified else None

    async def _confirmed_holder(self, db: AsyncSession, address: str) -> Person | None:
        # Addresses are kept as typed and compared in lower case.
        return await db.scalar(
            select(Person)
            .where(Person.email_verified.is_(True), func.lower(Person.email) == address)
            .limit(1)
        )

    async def _contact_row(
        self, db: AsyncSession, owner_id: uuid.UUID, person_id: uuid.UUID
    ) -> Contact | None:
        return await db.scalar(
            select(Contact).where(Contact.owner_id == owner_id, Contact.person_id == person_id)
        )

    async def _incoming(
        self, db: AsyncSession, person: Person, invitation_id: uuid.UUID
    ) -> tuple[ContactInvitation, Person]:
        """An invitation waiting for `person`'s confirmed address, and who sent it."""
        invitation = await db.get(ContactInvitation, invitation_id, with_for_update=True)
        address = self._confirmed_address(person)
        if invitation is None or address is None or invitation.email != address:
            raise InvitationNotFound("This invitation does not exist.")
        if invitation.inviter_id == person.id:
            raise Invalid("You cannot invite yourself.", type="cannot-invite-self")
        if invitation.status != "pending":
            raise Conflict("This invitation was already answered.", type="invitation-answered")
        inviter = await db.get(Person, invitation.inviter_id)
        assert inviter is not None  # the foreign key cascades
        return invitation, inviter
