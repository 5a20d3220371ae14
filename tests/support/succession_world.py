"""The authorization matrix's successions: people who died, recorded by office A.

- DECEASED: his estate, opened by office A, was transferred to Marie (his one heir), with
  one document of his in it;
- OPEN_ESTATE: an estate office A opened, Emma recorded as heir, not yet transferred;
- AWAITING_A, AWAITING_B: deaths recorded, no estate yet (what each office's notary opens);
- ALIVE_A, ALIVE_B: people with an account and no death recorded (what each office's
  notary records).
Made through the services, not over HTTP: nobody in the matrix's roles does it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import update

from idp_bridge import Person, make_nrn
from kluis.audit import Actor
from succession.access import Notary, Recorder
from tests.support.login import MARIE, NOTARY

DECEASED = make_nrn(date(1940, 2, 2), 201)
OPEN_ESTATE = make_nrn(date(1941, 3, 3), 202)
AWAITING_A = make_nrn(date(1942, 4, 4), 203)
AWAITING_B = make_nrn(date(1943, 5, 5), 204)
ALIVE_A = make_nrn(date(1944, 6, 6), 205)
ALIVE_B = make_nrn(date(1945, 7, 7), 206)
PEOPLE = (DECEASED, OPEN_ESTATE, AWAITING_A, AWAITING_B, ALIVE_A, ALIVE_B)
SUCCESSION_TABLES = frozenset(
    {"death_notices", "succession_timers", "estates", "heirs", "document_tombstones"}
)


async def register_people(platform) -> None:
    async with platform.session_maker() as db:
        for number, n in zip(PEOPLE, range(len(PEOPLE)), strict=True):
            await platform.identity.people.register(
                db,
                nrn=number,
                given_name="Overleden",
                surname=f"Persoon {n}",
                email=None,
                language="nl",
            )


async def reset_people(platform) -> None:
    """Nobody is deceased or frozen from an earlier world."""
    async with platform.session_maker() as db:
        await db.execute(update(Person).values(deceased_on=None, succession_option=1))
        await db.commit()


async def chunks(data: bytes):
    yield data


async def succession_world(platform, office_a: str) -> dict[str, str]:
    from tests.support.world import EMMA  # the world imports this module

    people = platform.identity.people
    succession = platform.succession
    async with platform.session_maker() as db:
        sophie = await people.by_nrn(db, NOTARY)
        office_name = await platform.register.office_name(db, uuid.UUID(office_a))
        actor = Actor(label=sophie.full_name, id=sophie.id)
        notary = Notary(sophie, uuid.UUID(office_a), office_name, actor)
        recorder = Recorder(sophie.full_name, actor, notary.office_id, office_name)
        deceased = await people.by_nrn(db, DECEASED)
        document = await platform.documents.upload(
            db,
            deceased,
            name="Erfenis.txt",
            categories=[],
            labels=[],
            body=chunks(b"wat ik nalaat\n"),
            declared_size=None,
            actor=Actor(label=deceased.full_name, id=deceased.id),
        )
        today = datetime.now(UTC).date()
        notices = {}
        for number in (DECEASED, OPEN_ESTATE, AWAITING_A, AWAITING_B):
            notices[number], _ = await succession.notices.record(
                db, nrn=number, date_of_death=today, reference="M-1", recorder=recorder
            )
        estates = {}
        for number, heir in ((DECEASED, MARIE), (OPEN_ESTATE, EMMA)):
            view = await succession.estates.open(db, nrn=number, reason="M-1", notary=notary)
            await succession.estates.set_heirs(db, view.estate.id, [heir], notary)
            estates[number] = view.estate.id
        view = await succession.estates.transfer(db, estates[DECEASED], notary)
        inheritance = view.heirs[0][0].id
    return {
        "notice": str(notices[AWAITING_A].id),
        "estate": str(estates[DECEASED]),
        "open_estate": str(estates[OPEN_ESTATE]),
        "inheritance": str(inheritance),
        "inherited_document": str(document.id),
    }
