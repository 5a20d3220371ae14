"""The office's administration page over real HTTP: details and members for the office's
notaries, adding and removing members, and every refusal leaving the register as it was."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from acts.models import OfficeMember
from kluis.audit import HistoryEvent
from kluis.errors import Invalid
from tests.support.login import JAN, NOTARY, STAFF, login
from tests.support.offices import OPERATOR, member
from tests.support.world import OFFICE_B_NOTARY, register_other_office


def form(client, **fields: str) -> dict[str, str]:
    return {"_csrf_token": client.cookies["csrftoken"], **fields}


def problem_type(response: httpx.Response) -> str:
    found = re.search(r'data-problem-type="([^"]+)"', response.text)
    return found.group(1) if found else ""


async def members_of(server, office_id: str) -> dict[uuid.UUID, str]:
    async with server.sessions() as db:
        rows = await db.execute(
            select(OfficeMember.id, OfficeMember.role).where(
                OfficeMember.office_id == uuid.UUID(office_id)
            )
        )
        return dict(rows.all())


async def office_actions(server, office_id: str) -> list[str]:
    async with server.sessions() as db:
        query = select(HistoryEvent.action).where(HistoryEvent.subject_id == uuid.UUID(office_id))
        return list(await db.scalars(query.order_by(HistoryEvent.seq)))


async def test_the_notary_sees_the_office_and_its_members(server, platform, notary, office_id):
    async with platform.session_maker() as db:
        office = await platform.register.office(db, uuid.UUID(office_id))
        office.address, office.email = "Bondgenotenlaan 1, 3000 Leuven", "kantoor@claes.example"
        await db.commit()

    page = await notary.get(f"/offices/{office_id}/admin")

    assert page.status_code == 200, page.text
    assert "Bondgenotenlaan 1, 3000 Leuven" in page.text
    assert "kantoor@claes.example" in page.text
    assert "Sophie Claes" in page.text  # logged in: by name
    assert "79.09.23-xxx.xx" in page.text  # Thomas never logged in: masked
    assert STAFF not in page.text and NOTARY not in page.text
    vault = await notary.get(f"/offices/{office_id}/vault")
    assert f"/offices/{office_id}/admin" in vault.text


async def test_only_the_offices_notaries_reach_it(server, platform, staff, office_id):
    await register_other_office(platform)
    async with member(server, OFFICE_B_NOTARY) as other_notary:
        for client in (staff, other_notary):
            page = await client.get(f"/offices/{office_id}/admin")
            assert (page.status_code, problem_type(page)) == (404, "office-not-found")
            added = await client.post(
                f"/offices/{office_id}/admin/members", data=form(client, nrn=JAN, role="notary")
            )
            assert added.status_code == 404
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get(f"/offices/{office_id}/admin")).status_code == 401
    assert (
        f"/offices/{office_id}/admin" not in (await staff.get(f"/offices/{office_id}/vault")).text
    )
    assert len(await members_of(server, office_id)) == 2


async def test_a_notary_adds_and_removes_a_member(server, notary, office_id):
    before = await members_of(server, office_id)

    added = await notary.post(
        f"/offices/{office_id}/admin/members", data=form(notary, nrn=JAN, role="staff")
    )

    assert added.status_code == 303
    new = {k: v for k, v in (await members_of(server, office_id)).items() if k not in before}
    assert list(new.values()) == ["staff"]
    [member_id] = new
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as jan:
        await login(jan, login_hint=JAN)  # now with the office's role
        assert (await jan.get(f"/offices/{office_id}/vault")).status_code == 200
    assert "Jan Peeters" in (await notary.get(f"/offices/{office_id}/admin")).text

    removed = await notary.post(
        f"/offices/{office_id}/admin/members/{member_id}/remove", data=form(notary)
    )

    assert removed.status_code == 303
    assert await members_of(server, office_id) == before
    assert (await office_actions(server, office_id))[-2:] == [
        "acts:member:registered",
        "acts:member:removed",
    ]


@pytest.mark.parametrize("nrn", ["85073003327", "", "12345"])
async def test_an_invalid_nrn_is_refused(server, notary, office_id, nrn):
    before = await members_of(server, office_id)
    history = await office_actions(server, office_id)

    response = await notary.post(
        f"/offices/{office_id}/admin/members", data=form(notary, nrn=nrn, role="staff")
    )

    assert (response.status_code, problem_type(response)) == (422, "nrn-invalid")
    assert await members_of(server, office_id) == before
    assert await office_actions(server, office_id) == history


async def test_a_role_other_than_notary_or_staff_is_refused(server, notary, office_id):
    response = await notary.post(
        f"/offices/{office_id}/admin/members", data=form(notary, nrn=JAN, role="owner")
    )
    assert (response.status_code, problem_type(response)) == (422, "member-role-invalid")


async def test_the_last_notary_stays(server, notary, office_id):
    members = await members_of(server, office_id)
    [notary_id] = [k for k, role in members.items() if role == "notary"]
    history = await office_actions(server, office_id)

    removed = await notary.post(
        f"/offices/{office_id}/admin/members/{notary_id}/remove", data=form(notary)
    )
    demoted = await notary.post(
        f"/offices/{office_id}/admin/members", data=form(notary, nrn=NOTARY, role="staff")
    )

    for response in (removed, demoted):
        assert (response.status_code, problem_type(response)) == (409, "last-notary")
    assert await members_of(server, office_id) == members
    assert await office_actions(server, office_id) == history

    # With a second notary, the first may go.
    await notary.post(
        f"/offices/{office_id}/admin/members", data=form(notary, nrn=JAN, role="notary")
    )
    removed = await notary.post(
        f"/offices/{office_id}/admin/members/{notary_id}/remove", data=form(notary)
    )
    assert removed.status_code == 303


async def test_a_member_of_another_office_cannot_be_removed_here(
    server, platform, notary, office_id
):
    office_b = await register_other_office(platform)
    [foreign] = [k for k, role in (await members_of(server, office_b)).items() if role == "notary"]

    response = await notary.post(
        f"/offices/{office_id}/admin/members/{foreign}/remove", data=form(notary)
    )

    assert (response.status_code, problem_type(response)) == (404, "member-not-found")
    assert foreign in await members_of(server, office_b)


async def test_an_offices_email_is_validated(server, platform):
    async with platform.session_maker() as db:
        with pytest.raises(Invalid) as refused:
            await platform.register.add_office(
                db,
                name="Notaris X",
                enterprise_number="0040000028",
                municipality=None,
                email="no address",
                actor=OPERATOR,
            )
        assert refused.value.type == "email-invalid"
        office = await platform.register.add_office(
            db,
            name="Notaris X",
            enterprise_number="0040000028",
            municipality="Gent",
            address="Korenmarkt 1, 9000 Gent",
            email="Kantoor@Notaris-X.example.test",
            actor=OPERATOR,
        )
    assert (office.address, office.email) == (
        "Korenmarkt 1, 9000 Gent",
        "Kantoor@notaris-x.example.test",
    )


async def test_the_api_shows_an_offices_address_and_email(server, platform, jan):
    async with platform.session_maker() as db:
        await platform.register.add_office(
            db,
            name="Notaris X",
            enterprise_number="0040000028",
            municipality="Gent",
            address="Korenmarkt 1, 9000 Gent",
            email="kantoor@notaris-x.example.test",
            actor=OPERATOR,
        )
    [office] = (await jan.get("/api/v1/offices", params={"q": "gent"})).json()
    assert (office["address"], office["email"]) == (
        "Korenmarkt 1, 9000 Gent",
        "kantoor@notaris-x.example.test",
    )
