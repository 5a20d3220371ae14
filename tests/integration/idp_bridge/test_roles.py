"""Notary roles come from the notary register, and only with a high-assurance login."""

from __future__ import annotations

from tests.support.login import JAN, NOTARY, STAFF, choose, login
from tests.support.offices import OPERATOR, register_office


async def test_notary_gets_the_notary_role_on_a_high_assurance_login(
    server, platform, browser_client
):
    office_id = await register_office(platform)

    await login(browser_client, login_hint=NOTARY)

    me = (await browser_client.get("/api/v1/me")).json()
    assert me["roles"] == ["citizen", "notary"]
    assert me["offices"] == [{"id": office_id, "name": "Notaris Claes", "role": "notary"}]
    home = await browser_client.get("/home")
    assert 'id="roles"' in home.text and "Notaris Claes" in home.text


async def test_staff_member_gets_the_staff_role(server, platform, browser_client):
    await register_office(platform)
    await login(browser_client, login_hint=STAFF)
    assert (await browser_client.get("/api/v1/me")).json()["roles"] == ["citizen", "staff"]


async def test_no_notary_role_below_high_assurance(server, platform, browser_client):
    await register_office(platform)

    await choose(browser_client, NOTARY, level="substantial")

    me = (await browser_client.get("/api/v1/me")).json()
    assert me["loa"] == "substantial"
    assert me["roles"] == ["citizen"]
    assert me["offices"] == []


async def test_citizen_outside_the_register_has_no_office_role(server, platform, browser_client):
    await register_office(platform)
    await login(browser_client, login_hint=JAN)
    assert (await browser_client.get("/api/v1/me")).json()["roles"] == ["citizen"]


async def test_removed_member_loses_the_role_at_once(server, platform, browser_client):
    await register_office(platform)
    await login(browser_client, login_hint=NOTARY)
    async with platform.session_maker() as db:
        office = await platform.register.office_by_number(db, "0403170701")
        await platform.register.remove_member(db, office, nrn=NOTARY, actor=OPERATOR)

    assert (await browser_client.get("/api/v1/me")).json()["roles"] == ["citizen"]
