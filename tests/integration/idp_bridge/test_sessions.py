"""Sessions: timeouts, logout at the platform and the provider, back-channel logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from idp_bridge.models import WebSession
from tests.support.login import JAN, csrf, login


async def only_session(server) -> WebSession:
    async with server.sessions() as db:
        return (await db.scalars(select(WebSession))).one()


async def shift_session(server, **values) -> None:
    async with server.sessions() as db:
        await db.execute(update(WebSession).values(**values))
        await db.commit()


async def test_session_cookie_is_httponly_and_lax(server, browser_client):
    start = await browser_client.get("/auth/login/itsme", params={"login_hint": JAN})
    authorize = await browser_client.get(start.headers["location"])
    callback = await browser_client.get(authorize.headers["location"])

    cookie = next(c for c in callback.headers.get_list("set-cookie") if "kluis_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie


async def test_a_session_id_planted_before_login_is_never_the_sessions(server, browser_client):
    """Session fixation: whatever cookie a visitor arrives with (one an attacker planted, or
    an earlier login's), the login issues a session of its own, and the planted value opens
    nothing before or after."""
    planted = "attacker-chosen-value-0123456789abcdefghij"
    # As a browser keeps it: for this host and path, so the login's cookie replaces it.
    browser_client.cookies.set("kluis_session", planted, domain="127.0.0.1", path="/")
    assert (await browser_client.get("/api/v1/me")).status_code == 401

    await login(browser_client, login_hint=JAN)
    issued = browser_client.cookies["kluis_session"]
    assert issued != planted
    assert (await browser_client.get("/api/v1/me")).status_code == 200
    async with httpx.AsyncClient(base_url=server.url) as attacker:
        attacker.cookies.set("kluis_session", planted)
        assert (await attacker.get("/api/v1/me")).status_code == 401

    # A second login in the same browser does not keep the first session's value either.
    await login(browser_client, login_hint=JAN)
    assert browser_client.cookies["kluis_session"] not in (issued, planted)


async def test_idle_session_ends(server, browser_client):
    await login(browser_client, login_hint=JAN)
    await shift_session(server, last_seen_at=datetime.now(UTC) - timedelta(minutes=16))

    assert (await browser_client.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "idle"


async def test_session_ends_after_its_absolute_lifetime(server, browser_client):
    await login(browser_client, login_hint=JAN)
    await shift_session(server, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    assert (await browser_client.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "expired"


async def test_absolute_lifetime_is_eight_hours(server, browser_client):
    await login(browser_client, login_hint=JAN)
    session = await only_session(server)
    assert session.expires_at - session.created_at == timedelta(hours=8)


async def test_logout_ends_the_session_here_and_at_the_provider(server, browser_client):
    await login(browser_client, login_hint=JAN)

    response = await browser_client.post("/auth/logout", headers=csrf(browser_client))

    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{server.url}/dev-idp/end-session?")
    assert "id_token_hint=" in response.headers["location"]
    assert (await browser_client.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "logout"


async def test_logout_needs_the_csrf_token(server, browser_client):
    await login(browser_client, login_hint=JAN)

    response = await browser_client.post("/auth/logout")

    assert response.status_code == 403
    assert 'data-problem-type="csrf-token-invalid"' in response.text
    assert (await browser_client.get("/api/v1/me")).status_code == 200


async def test_logout_is_in_the_history(server, browser_client):
    await login(browser_client, login_hint=JAN)
    await browser_client.post("/auth/logout", headers=csrf(browser_client))
    await login(browser_client, login_hint=JAN)

    events = (await browser_client.get("/api/v1/history")).json()["events"]
    assert [e["action"] for e in events][:3] == [
        "idp:login:succeeded",
        "idp:session:ended",
        "idp:login:succeeded",
    ]


async def test_backchannel_logout_ends_the_matching_session(server, browser_client):
    await login(browser_client, login_hint=JAN)
    session = await only_session(server)
    token = server.dev_idp.logout_token("kluis-dev-itsme", session.provider_sid, None)

    response = await browser_client.post(
        "/auth/backchannel-logout/itsme", data={"logout_token": token}
    )

    assert response.status_code == 200
    assert response.json() == {"sessions_ended": 1}
    assert response.headers["cache-control"] == "no-store"
    assert (await browser_client.get("/api/v1/me")).status_code == 401
    assert (await only_session(server)).end_reason == "provider-logout"


async def test_backchannel_logout_token_cannot_be_replayed(server, browser_client):
    await login(browser_client, login_hint=JAN)
    session = await only_session(server)
    token = server.dev_idp.logout_token("kluis-dev-itsme", session.provider_sid, None)
    await browser_client.post("/auth/backchannel-logout/itsme", data={"logout_token": token})

    replay = await browser_client.post(
        "/auth/backchannel-logout/itsme", data={"logout_token": token}
    )

    assert replay.status_code == 400
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert replay.json()["type"] == "logout-token-replayed"


async def test_backchannel_logout_token_for_another_client_is_refused(server, browser_client):
    await login(browser_client, login_hint=JAN)
    session = await only_session(server)
    token = server.dev_idp.logout_token("someone-else", session.provider_sid, None)

    response = await browser_client.post(
        "/auth/backchannel-logout/itsme", data={"logout_token": token}
    )

    assert response.status_code == 400  # Back-Channel Logout 1.0 §2.8
    assert response.json()["type"] == "logout-token-invalid"
    assert (await browser_client.get("/api/v1/me")).status_code == 200


async def test_backchannel_logout_without_a_token_is_refused(server, browser_client):
    response = await browser_client.post("/auth/backchannel-logout/itsme", data={})
    assert response.status_code == 400  # Back-Channel Logout 1.0 §2.8
    assert response.json()["type"] == "logout-token-invalid"


async def test_logout_url_never_carries_the_nrn(server, browser_client):
    # The federal service's ID token holds egovNRN; the hint must not show it.
    await login(browser_client, "fas", login_hint=JAN)

    response = await browser_client.post("/auth/logout", headers=csrf(browser_client))

    location = response.headers["location"]
    assert JAN not in location
    assert "id_token_hint=" in location  # encrypted to the provider


async def test_a_forged_callback_link_does_not_log_anyone_out(server, browser_client):
    await login(browser_client, login_hint=JAN)

    forged = await browser_client.get("/auth/callback/itsme", params={"state": "x", "code": "y"})

    assert forged.status_code == 400
    assert (await browser_client.get("/api/v1/me")).status_code == 200
