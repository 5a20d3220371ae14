"""Succession as tests drive it: choices, death notices, estates, and the sweep in time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from dateutil.relativedelta import relativedelta

from tests.support.login import csrf


async def choose(client: httpx.AsyncClient, option: int, **extra: object) -> httpx.Response:
    return await client.put(
        "/api/v1/me/succession", json={"option": option, **extra}, headers=csrf(client)
    )


async def record_death(
    notary: httpx.AsyncClient, nrn: str, when: date | None = None, reference: str = "AKTE-1"
) -> httpx.Response:
    return await notary.post(
        "/api/v1/death-notices",
        json={
            "nrn": nrn,
            "date_of_death": (when or datetime.now(UTC).date()).isoformat(),
            "reference": reference,
        },
        headers=csrf(notary),
    )


async def lookup(notary: httpx.AsyncClient, nrn: str, reason: str = "estate 2026/17"):
    return await notary.post(
        "/api/v1/estates/lookup", json={"nrn": nrn, "reason": reason}, headers=csrf(notary)
    )


async def open_estate(notary: httpx.AsyncClient, nrn: str, reason: str = "estate 2026/17"):
    return await notary.post(
        "/api/v1/estates", json={"nrn": nrn, "reason": reason}, headers=csrf(notary)
    )


async def set_heirs(notary: httpx.AsyncClient, estate_id: str, heirs: list[str]):
    return await notary.put(
        f"/api/v1/estates/{estate_id}/heirs", json={"heirs": heirs}, headers=csrf(notary)
    )


async def transfer(notary: httpx.AsyncClient, estate_id: str):
    return await notary.post(f"/api/v1/estates/{estate_id}/transfer", headers=csrf(notary))


async def sweep(platform, *, days: int = 0, months: int = 0, hours: int = 0):
    """The sweep as of now plus the given time: what would run then."""
    as_of = datetime.now(UTC) + timedelta(days=days, hours=hours) + relativedelta(months=months)
    return await platform.succession.sweep.run(platform.session_maker, as_of)


async def share(client: httpx.AsyncClient, document_id: str, contact_id: str, when: str = "now"):
    return await client.post(
        f"/api/v1/documents/{document_id}/shares",
        json={"contact_id": contact_id, "when": when},
        headers=csrf(client),
    )
