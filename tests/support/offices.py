"""The demo notary office as tests register it: Sophie Claes (notary), Thomas Wouters (staff)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from kluis.audit import Actor
from tests.support.login import NOTARY, STAFF, login

OPERATOR = Actor(label="operator (test)")


async def register_office(
    platform,
    name: str = "Notaris Claes",
    number: str = "0403170701",
    members: tuple[tuple[str, str], ...] = ((NOTARY, "notary"), (STAFF, "staff")),
) -> str:
    async with platform.session_maker() as db:
        office = await platform.register.add_office(
            db, name=name, enterprise_number=number, municipality="Leuven", actor=OPERATOR
        )
        for nrn, role in members:
            await platform.register.add_member(db, office, nrn=nrn, role=role, actor=OPERATOR)
        return str(office.id)


@asynccontextmanager
async def member(server, nrn: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own, logged in (high assurance: the dev provider's default)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await login(client, login_hint=nrn)
        yield client
