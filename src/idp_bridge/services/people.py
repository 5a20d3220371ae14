"""People: who a national registry number belongs to, and what they may change about it."""

from __future__ import annotations

import uuid
from datetime import date

from msgspec import UNSET, UnsetType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import NationalNumber, check_adult, parse_nrn
from idp_bridge.models import Person
from idp_bridge.notifications import check_preferences
from kluis import audit
from kluis.db import insert_unless_exists
from kluis.errors import Invalid, NotFound
from kluis.hooks import Hooks
from kluis.keys import KeyProvider
from kluis.settings import Settings

NRN_AAD = b"person.nrn"


def nrn_index(keys: KeyProvider, digits: str) -> str:
    """The blind index by which every domain finds a person's NRN."""
    return keys.blind_index("nrn", digits)


def seal_nrn(keys: KeyProvider, digits: str) -> bytes:
    return keys.seal(digits.encode(), NRN_AAD)


def masked_nrn(keys: KeyProvider, sealed: bytes) -> str:
    """A sealed NRN (`seal_nrn`) as it may be shown: only its birth-date part."""
    digits = keys.open(sealed, NRN_AAD).decode()
    return NationalNumber(digits=digits, birth_date=None).masked


class People:
    def __init__(self, settings: Settings, keys: KeyProvider, hooks: Hooks | None = None) -> None:
        self.settings = settings
        self.keys = keys
        self.hooks = hooks or Hooks()

    def index_of(self, digits: str) -> str:
        """The blind index a person is found by (`Person.nrn_index`)."""
        return nrn_index(self.keys, digits)

    async def by_nrn(self, db: AsyncSession, digits: str) -> Person | None:
        return await self.by_index(db, self.index_of(digits))

    async def by_index(self, db: AsyncSession, index: str) -> Person | None:
        """The person with this blind index (`index_of`), for a caller that needs the index
        itself too: on an HSM each index is a call to the token."""
        return await db.scalar(select(Person).where(Person.nrn_index == index))

    async def upsert(
        self,
        db: AsyncSession,
        nrn: NationalNumber,
        *,
        given_name: str,
        surname: str,
        birth_date: date | None,
        email: str | None,
        language: str | None,
    ) -> tuple[Person, bool]:
        """The person with this NRN, created if new, names refreshed if known (no commit)."""
        index = self.index_of(nrn.digits)  # for the look-up and the insert
        person = await self.by_index(db, index)
        if person is not None:
            person.given_name = given_name or person.given_name
            person.surname = surname or person.surname
            return person, False
        languages = self.settings.languages
        # Two first logins of the same person at once: one insert wins, both read it back.
        await insert_unless_exists(
            db,
            Person,
            ["nrn_index"],
            nrn_index=index,
            nrn_sealed=seal_nrn(self.keys, nrn.digits),
            given_name=given_name,
            surname=surname,
            birth_date=birth_date,
            email=email,
            email_verified=False,
            language=language if language in languages else self.settings.default_language,
            notifications={},
        )
        person = await db.scalar(
            select(Person)
            .where(Person.nrn_index == index)
            .execution_options(populate_existing=True)
        )
        assert person is not None  # inserted above, or by the concurrent request
        return person, True

    async def register(
        self,
        db: AsyncSession,
        *,
        nrn: str,
        given_name: str,
        surname: str,
        email: str | None,
        language: str | None,
    ) -> tuple[Person, bool]:
        """Create a person ahead of their first login (the demo seed); commits."""
        number = parse_nrn(nrn)
        check_adult(number.birth_date, date.today())
        person, created = await self.upsert(
            db,
            number,
            given_name=given_name,
            surname=surname,
            birth_date=number.birth_date,
            email=email,
            language=language,
        )
        await db.commit()
        return person, created

    def masked_nrn(self, person: Person) -> str:
        return masked_nrn(self.keys, person.nrn_sealed)

    async def update_profile(
        self,
        db: AsyncSession,
        person: Person,
        *,
        language: str | None = None,
        notifications: dict[str, bool] | None = None,
        preferred_office_id: uuid.UUID | UnsetType | None = UNSET,
        actor: audit.Actor | None = None,
    ) -> Person:
        """Change what a person may choose; `preferred_office_id=None` clears the reference
        notary, leaving it out keeps it."""
        if language is not None and language not in self.settings.languages:
            raise Invalid("This language is not available.", type="language-not-available")
        person = await db.merge(person)
        if preferred_office_id is not UNSET:
            await self._set_reference_notary(db, person, preferred_office_id, actor)
        if language is not None:
            person.language = language
        if notifications is not None:
            person.notifications = {
                **(person.notifications or {}),
                **check_preferences(notifications),
            }
        await db.commit()
        return person

    async def _set_reference_notary(
        self,
        db: AsyncSession,
        person: Person,
        office_id: uuid.UUID | None,
        actor: audit.Actor | None,
    ) -> None:
        name = None
        if office_id is not None:
            name = await self.hooks.office_name(db, office_id)
            if name is None:
                raise NotFound("This notary office is not registered.", type="office-not-found")
        if office_id == person.preferred_office_id:
            return
        person.preferred_office_id = office_id
        await audit.record(
            db,
            subject_id=person.id,
            action="idp:profile:reference-notary",
            actor=actor or audit.Actor(label=person.full_name, id=person.id),
            target=name,
            detail={"office": str(office_id) if office_id else None},
        )
