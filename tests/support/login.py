"""Driving a login through the development identity provider over real HTTP."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select

from idp_bridge import make_nrn
from idp_bridge.models import WebSession
from kluis.audit import PLATFORM_SUBJECT, HistoryEvent

JAN = "85073003328"  # Jan Peeters in config/demo.toml
MARIE = "90031412508"  # Marie Dubois, French-speaking
NOTARY = "68010904256"  # Sophie Claes, notary of the demo office
STAFF = "79092321046"  # Thomas Wouters, staff of the demo office
MINOR = make_nrn(date.today().replace(year=date.today().year - 17), 5)


def bis_number() -> str:
    """A valid BIS number (birth month + 40): not issued by the national register."""
    body = "854730033"
    return f"{body}{97 - int(body) % 97:02d}"


async def login(
    client: httpx.AsyncClient, provider: str = "itsme", **params: str
) -> httpx.Response:
    """Start a login and follow every redirect, as a browser would."""
    return await client.get(f"/auth/login/{provider}", params=params, follow_redirects=True)


async def callback_url(client: httpx.AsyncClient, provider: str = "itsme", **params: str) -> str:
    """Go through the provider, stopping just before the callback reaches the platform."""
    start = await client.get(f"/auth/login/{provider}", params=params)
    assert start.status_code == 302, start.text
    authorize = await client.get(start.headers["location"])
    assert authorize.status_code in (302, 303), authorize.text
    return authorize.headers["location"]


async def choose(
    client: httpx.AsyncClient, nrn: str, *, level: str = "high", provider: str = "itsme"
) -> httpx.Response:
    """Log in through the provider's chooser page, picking a citizen and a level."""
    page = await client.get(f"/auth/login/{provider}", follow_redirects=True)
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket, page.text
    return await client.post(
        "/dev-idp/authorize",
        data={
            "ticket": ticket.group(1),
            "nrn": nrn,
            "level": level,
            "_csrf_token": client.cookies["csrftoken"],
        },
        follow_redirects=True,
    )


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


async def platform_refusals(server: Any) -> list[dict[str, str]]:
    async with server.sessions() as db:
        events = await db.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.subject_id == PLATFORM_SUBJECT)
            .order_by(HistoryEvent.seq)
        )
        return [{"action": e.action, **e.detail} for e in events]


async def open_sessions(server: Any) -> int:
    async with server.sessions() as db:
        query = select(func.count()).select_from(WebSession).where(WebSession.ended_at.is_(None))
        return await db.scalar(query) or 0


async def assert_refused(
    server: Any,
    client: httpx.AsyncClient,
    response: httpx.Response,
    status: int,
    reason: str,
) -> None:
    """A refused login: the status, a page naming the reason, no session, a history entry."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-problem-type="{reason}"' in response.text
    assert (await client.get("/api/v1/me")).status_code == 401
    assert await open_sessions(server) == 0
    assert {"action": "idp:login:refused", "reason": reason}.items() <= (
        (await platform_refusals(server))[-1].items()
    )
