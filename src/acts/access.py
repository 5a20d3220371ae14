"""Who acts for a notary office: a member (notary or staff) on a high-assurance login, or
the office's own software through an API client (OAuth 2 client credentials).

Every office-side route asks `OfficeAccess.membership`; an office the caller is not in does
not exist for them (404), so neither a member of office B nor office B's software can probe
office A's ids. The API-client layer authenticates a bearer token before guards run and
leaves an `OfficeSoftware` on the request's state (`office_software`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from acts.models import NotaryOffice
from acts.services import NotaryRegister
from idp_bridge import Person, identity_of, request_actor
from kluis.audit import Actor
from kluis.errors import NotFound, Unauthenticated

SOFTWARE = "software"


@dataclass(frozen=True)
class OfficeSoftware:
    """An office's software, as an authenticated API client."""

    id: uuid.UUID  # the registered client
    office_id: uuid.UUID
    office_name: str
    client_name: str

    @property
    def label(self) -> str:
        """How histories name it: "office X (software)"."""
        return f"{self.office_name} (software)"


@dataclass(frozen=True)
class RegistryClient:
    """The population register's software, as an authenticated API client: it pushes death
    notices and works for no office."""

    id: uuid.UUID  # the registered client
    client_name: str

    @property
    def label(self) -> str:
        return f"{self.client_name} (registry)"


@dataclass(frozen=True)
class Membership:
    """Someone working for an office: a member in person, or the office's software."""

    office: NotaryOffice
    person: Person | None  # None for the office's software
    role: str  # "notary", "staff" or "software"
    software: OfficeSoftware | None = None

    @property
    def sees_confidential(self) -> bool:
        """What a citizen marked confidential is for the office's notaries in person."""
        return self.role == "notary"

    @property
    def reader_id(self) -> uuid.UUID:
        """Whose read marks these are (unread counts are per member, per software client)."""
        if self.person is not None:
            return self.person.id
        assert self.software is not None
        return self.software.id

    @property
    def label(self) -> str:
        if self.person is not None:
            return self.person.full_name
        assert self.software is not None
        return self.software.label


def software_of(connection: ASGIConnection[Any, Any, Any, Any]) -> OfficeSoftware | None:
    return connection.scope.get("state", {}).get("office_software")


def registry_client_of(connection: ASGIConnection[Any, Any, Any, Any]) -> RegistryClient | None:
    return connection.scope.get("state", {}).get("registry_client")


async def requires_member_or_software(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """A logged-in person or an authenticated office client; who may do what is asked per
    office by `OfficeAccess.membership`."""
    if identity_of(connection) is None and software_of(connection) is None:
        raise Unauthenticated()


def caller_actor(request: Request[Any, Any, Any]) -> Actor:
    """The history's actor: the person logged in, or "office X (software)"."""
    actor = request_actor(request)
    software = software_of(request)
    if software is not None and identity_of(request) is None:
        return actor.with_identity(software.id, software.label)
    return actor


class OfficeAccess:
    def __init__(self, register: NotaryRegister) -> None:
        self.register = register

    async def membership(
        self, db: AsyncSession, request: Request[Any, Any, Any], office_id: uuid.UUID
    ) -> Membership:
        """The caller's place in an office; an office they are not in does not exist."""
        identity = identity_of(request)
        if identity is not None:
            roles = [r.name for r in identity.roles if r.scope_id == office_id]
            if roles:
                office = await self.register.office(db, office_id)
                role = "notary" if "notary" in roles else roles[0]
                return Membership(office, identity.person, role)
        else:
            software = software_of(request)
            if software is not None and software.office_id == office_id:
                office = await self.register.office(db, office_id)
                return Membership(office, None, SOFTWARE, software)
        raise NotFound("This notary office is not registered.", type="office-not-found")

    def memberships(self, request: Request[Any, Any, Any]) -> list[uuid.UUID]:
        """The offices the caller works for."""
        identity = identity_of(request)
        if identity is not None:
            return list(dict.fromkeys(r.scope_id for r in identity.roles if r.scope_id))
        software = software_of(request)
        return [software.office_id] if software is not None else []
