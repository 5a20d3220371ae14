"""A citizen's choice of what happens to their vault after death."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import Person, loa_at_least
from kluis import audit
from kluis.audit import Actor
from kluis.errors import Forbidden
from succession.domain import check_option


class Choices:
    async def choose(
        self,
        db: AsyncSession,
        person: Person,
        option: object,
        *,
        confirm_irreversible: bool,
        loa: str,
        actor: Actor,
    ) -> Person:
        """Set the option (1, 2 or 3; 3 only with the confirmation), on a high-assurance
        login; a change lands in the history."""
        if not loa_at_least(loa, "high"):
            raise Forbidden(
                "Log in with your eID card or itsme to change this choice.", type="loa-too-low"
            )
        chosen = check_option(option, confirm_irreversible)
        person = await db.merge(person)
        if chosen != person.succession_option:
            await audit.record(
                db,
                subject_id=person.id,
                action="succession:option:changed",
                actor=actor,
                detail={"from": person.succession_option, "to": chosen},
            )
            person.succession_option = chosen
        await db.commit()
        return person
