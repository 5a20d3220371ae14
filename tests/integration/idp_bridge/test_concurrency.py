"""Logins racing each other end in clean answers, never in a 500."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from idp_bridge.models import Person, ProviderLink
from tests.support.login import JAN, callback_url


async def test_a_state_used_by_racing_callbacks_logs_in_once(server, browser_client):
    url = await callback_url(browser_client, login_hint=JAN)

    responses = await asyncio.gather(*(browser_client.get(url) for _ in range(6)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302, 400, 400, 400, 400, 400]


async def test_first_logins_of_one_person_at_once_make_one_person(server):
    clients = [httpx.AsyncClient(base_url=server.url, timeout=30) for _ in range(6)]
    try:
        urls = [await callback_url(client, login_hint="72110208784") for client in clients]
        responses = await asyncio.gather(
            *(client.get(url) for client, url in zip(clients, urls, strict=True))
        )
    finally:
        for client in clients:
            await client.aclose()

    assert [r.status_code for r in responses] == [302] * 6
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Person)) == 1
        assert await db.scalar(select(func.count()).select_from(ProviderLink)) == 1
