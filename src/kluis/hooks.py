"""In-process hooks by which a higher layer lets a lower one react, without upward imports.

The composition root (`kluis.app`) registers the hooks; lower layers only call them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Role:
    """A role beyond `citizen`, e.g. notary or staff of one notary office."""

    name: str
    scope_id: uuid.UUID | None = None
    scope_label: str | None = None


# Given a person's NRN blind index, the roles a register grants them.
RoleResolver = Callable[[AsyncSession, str], Awaitable[list[Role]]]


@dataclass
class Hooks:
    role_resolvers: list[RoleResolver] = field(default_factory=list)

    async def roles_for(self, db: AsyncSession, nrn_index: str) -> list[Role]:
        roles: list[Role] = []
        for resolve in self.role_resolvers:
            roles += await resolve(db, nrn_index)
        return roles
