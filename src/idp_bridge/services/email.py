"""A person's e-mail address: set or change it, and confirm it through a link sent to it.

The link is a JWT signed with a key derived from the key provider. It names the person,
a keyed tag of the address and the change of address it confirms, and it expires. It
confirms only the person's current address, only the latest change to it, and only while
the person is logged in: an address someone else typed in cannot be confirmed by its owner
clicking the link, and a mail scanner opening it changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import EmailLink, EmailLinkRefused, check_email_link, parse_email
from idp_bridge.models import Person
from kluis import audit
from kluis.audit import Actor
from kluis.keys import KeyProvider
from kluis.mail import Email
from kluis.settings import Settings
from kluis.tasks import Tasks
from kluis.web.i18n import gettext, in_language

EMAIL_CHANGED = "idp:email:changed"
EMAIL_CONFIRMED = "idp:email:confirmed"
CONFIRM_PATH = "/auth/email/confirm"
LINK_ALGORITHM = "HS256"


class EmailChange(StrEnum):
    """What setting an address did."""

    SENT = "sent"  # a new or still unconfirmed address: a confirmation link is on its way
    UNCHANGED = "unchanged"  # already the person's confirmed address: nothing to do


class EmailAddresses:
    def __init__(self, settings: Settings, keys: KeyProvider, tasks: Tasks) -> None:
        self.settings = settings
        self.keys = keys
        self.tasks = tasks
        self._key = OctKey.import_key(keys.derive_secret("email-confirmation-link"))

    def address_tag(self, address: str) -> str:
        return self.keys.blind_index("email-confirmation-link", address)[:32]

    def link(self, person_id: uuid.UUID, address: str, change: int, *, now: datetime) -> str:
        expires = now + timedelta(hours=self.settings.mail.confirmation_link_hours)
        claims = {
            "sub": str(person_id),
            "adr": self.address_tag(address),
            "chg": change,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        token = jwt.encode({"alg": LINK_ALGORITHM}, claims, self._key, [LINK_ALGORITHM])
        return f"{self.settings.base_url}{CONFIRM_PATH}?token={token}"

    def read_link(self, token: str) -> EmailLink:
        """What a link says, if it is genuine and unexpired; else EmailLinkRefused."""
        try:
            claims = jwt.decode(token, self._key, [LINK_ALGORITHM]).claims
            jwt.JWTClaimsRegistry(
                sub={"essential": True}, exp={"essential": True}, iat={"essential": True}
            ).validate(claims)
            return EmailLink(
                person_id=uuid.UUID(claims["sub"]),
                address_tag=str(claims["adr"]),
                change=int(claims["chg"]),
            )
        except ExpiredTokenError:
            raise EmailLinkRefused("email-link-expired") from None
        except (JoseError, KeyError, TypeError, ValueError):
            raise EmailLinkRefused("email-link-invalid") from None

    async def _locked(self, db: AsyncSession, person: Person) -> Person:
        # FOR UPDATE: a change and a confirmation of the same person happen one at a time.
        found = await db.scalar(
            select(Person)
            .where(Person.id == person.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert found is not None  # the person of a live session
        return found

    async def _latest_change(self, db: AsyncSession, person: Person) -> int:
        return await audit.latest_seq(db, person.id, EMAIL_CHANGED) or 0

    async def change(
        self, db: AsyncSession, person: Person, address: str, actor: Actor
    ) -> tuple[Person, EmailChange]:
        """Make `address` the person's (unconfirmed) address and mail it a link; commits.

        The same, still unconfirmed address gets a new link; earlier links keep working
        until the address changes again.
        """
        address = parse_email(address, test_domains=self.settings.env != "production")
        person = await self._locked(db, person)
        if address == person.email and person.email_verified:
            await db.commit()  # nothing changed; ends the transaction and its lock
            return person, EmailChange.UNCHANGED
        if address != person.email:
            person.email = address
            person.email_verified = False
            await audit.record(
                db, subject_id=person.id, action=EMAIL_CHANGED, actor=actor, target=address
            )
        change = await self._latest_change(db, person)
        link = self.link(person.id, address, change, now=datetime.now(UTC))
        self.tasks.send_mail(db, self._confirmation_mail(person, address, link))
        await db.commit()
        return person, EmailChange.SENT

    async def confirm(self, db: AsyncSession, person: Person, token: str, actor: Actor) -> Person:
        """Mark the person's address confirmed, if `token` is a link that may; commits."""
        link = self.read_link(token)
        person = await self._locked(db, person)
        try:
            check_email_link(
                link,
                person_id=person.id,
                address_tag=self.address_tag(person.email) if person.email else None,
                latest_change=await self._latest_change(db, person),
                verified=person.email_verified,
            )
        except EmailLinkRefused:
            await db.rollback()
            raise
        person.email_verified = True
        await audit.record(
            db, subject_id=person.id, action=EMAIL_CONFIRMED, actor=actor, target=person.email
        )
        await db.commit()
        return person

    def _confirmation_mail(self, person: Person, address: str, link: str) -> Email:
        hours = self.settings.mail.confirmation_link_hours
        with in_language(person.language):
            subject = gettext("Confirm your e-mail address for Kluis")
            body = gettext(
                "Hello %(name)s,\n\n"
                "You gave Kluis this e-mail address. Please confirm it by opening this "
                "link within %(hours)s hours:\n\n"
                "%(link)s\n\n"
                "If you are not logged in, Kluis first asks you to log in with your eID "
                "card or itsme.\n\n"
                "If you did not ask for this, ignore this e-mail: the address will not "
                "be used.\n",
                name=person.full_name,
                hours=hours,
                link=link,
            )
        return Email(to=address, subject=subject, body=body)
