"""In-process hooks by which a higher layer lets a lower one react, without upward imports.

The composition root (`kluis.app`) registers the hooks; lower layers only call them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Subquery, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from kluis.audit import Actor


@dataclass(frozen=True)
class Role:
    """A role beyond `citizen`, e.g. notary or staff of one notary office."""

    name: str
    scope_id: uuid.UUID | None = None
    scope_label: str | None = None


@dataclass(frozen=True)
class SealStatus:
    """A checked office seal: who sealed the document, and whether the seal holds."""

    office_name: str | None
    verified: bool


# The roles a register grants, as a SELECT of (nrn_index, role, scope id, scope label)
# rows for everyone: the session check joins it to the person it reads, so a request reads
# its person and their roles in one statement.
RoleSource = Callable[[], Select[tuple[str, str, uuid.UUID | None, str | None]]]
# Given a seal and the SHA-256 it should cover, what the register's office keys say.
SealChecker = Callable[[AsyncSession, str, str], Awaitable[SealStatus]]
# Given an office id, its name, or None when the register has no such office.
OfficeLookup = Callable[[AsyncSession, uuid.UUID], Awaitable[str | None]]
# Given a person just identified by a login (in its transaction), the login's level of
# assurance and who is logging in: may refuse the login, or act on it (a death notice is
# voided by the person's own high-assurance login).
LoginGuard = Callable[[AsyncSession, Any, str, Actor], Awaitable[None]]


@dataclass
class Hooks:
    role_sources: list[RoleSource] = field(default_factory=list)
    seal_checker: SealChecker | None = None
    office_lookup: OfficeLookup | None = None
    login_guards: list[LoginGuard] = field(default_factory=list)

    async def check_login(self, db: AsyncSession, person: Any, loa: str, actor: Actor) -> None:
        for guard in self.login_guards:
            await guard(db, person, loa, actor)

    async def check_seal(self, db: AsyncSession, seal: str, sha256: str) -> SealStatus:
        if self.seal_checker is None:  # no register to ask: nothing can vouch for it
            return SealStatus(None, False)
        return await self.seal_checker(db, seal, sha256)

    async def office_name(self, db: AsyncSession, office_id: uuid.UUID) -> str | None:
        return None if self.office_lookup is None else await self.office_lookup(db, office_id)

    def roles(self) -> Subquery | None:
        """Every register's roles, as one subquery of (nrn_index, role, scope_id,
        scope_label); None without a register."""
        if not self.role_sources:
            return None
        sources = [source() for source in self.role_sources]
        union = sources[0] if len(sources) == 1 else union_all(*sources)
        return union.subquery("roles")
