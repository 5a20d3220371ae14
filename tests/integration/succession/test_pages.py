"""Succession's pages over real HTTP: a citizen's choice (option 3 only with the box ticked,
only on a high-assurance login), the notary's desk (a death recorded, a look-up answered
in the page, a notice withdrawn, an estate opened, its heirs and the transfer), the heir's
inheritances with their downloads and copies; every refusal shown in its page with what was
typed; staff told it is for notaries, everyone else finding nothing; and no national
registry number in any URL a page leads to."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

import httpx
import pytest
from sqlalchemy import func, select

from idp_bridge import Person
from succession.models import DeathNotice, Estate, Heir
from tests.support.contacts import become_contacts
from tests.support.login import JAN, MARIE, NOTARY, STAFF, choose, csrf, login
from tests.support.offices import member
from tests.support.succession import record_death
from tests.support.vault import upload
from tests.support.world import EMMA, OFFICE_B_NOTARY, register_other_office

NUMBERS = (JAN, MARIE, EMMA, NOTARY, STAFF)
# 85073003328 or 85.07.30-033.28 (decoded first): the digits, with separators between.
NUMBER_FORMS = [re.compile(r"[^0-9a-f]{0,3}".join(number)) for number in NUMBERS]


def form(client: httpx.AsyncClient, **fields: str) -> dict[str, str]:
    return {"_csrf_token": client.cookies["csrftoken"], **fields}


def problem_type(response: httpx.Response) -> str:
    found = re.search(r'data-problem-type="([^"]+)"', response.text)
    return found.group(1) if found else ""


def links(response: httpx.Response) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', response.text)


@pytest.fixture
def urls(jan, notary) -> list[str]:
    """Every URL Jan's and the notary's browsers ask for, redirects included."""
    seen: list[str] = []

    async def note(request: httpx.Request) -> None:
        seen.append(str(request.url))

    for client in (jan, notary):
        client.event_hooks["request"].append(note)
    return seen


def assert_no_number_in(addresses: list[str]) -> None:
    for address in addresses:
        decoded = unquote_plus(address)
        assert not any(pattern.search(decoded) for pattern in NUMBER_FORMS), address


async def option_of(server, nrn_owner: httpx.AsyncClient) -> int:
    return (await nrn_owner.get("/api/v1/me")).json()["succession_option"]


# -- a citizen's choice ------------------------------------------------------------------------


async def test_a_citizen_chooses_an_option_and_option_3_needs_the_confirmation(server, jan, urls):
    page = await jan.get("/succession")
    assert page.status_code == 200
    assert 'data-option="1"' in page.text  # the default
    assert 'href="/succession"' in page.text and 'href="/inheritances"' in page.text  # the nav
    assert "loa-warning" not in page.text

    chosen = await jan.post("/succession", data=form(jan, option="2"))
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/succession?saved=true"
    page = await jan.get(chosen.headers["location"])
    assert 'data-option="2"' in page.text and 'id="choice-saved"' in page.text
    assert await option_of(server, jan) == 2

    refused = await jan.post("/succession", data=form(jan, option="3"))
    assert (refused.status_code, problem_type(refused)) == (422, "confirmation-required")
    assert "Vernietiging is onomkeerbaar" in refused.text  # the rule, in the reader's language
    assert re.search(r'value="3" id="option-3" checked', refused.text)  # as chosen
    assert await option_of(server, jan) == 2

    confirmed = await jan.post(
        "/succession", data=form(jan, option="3", confirm_irreversible="yes")
    )
    assert confirmed.status_code == 303
    assert await option_of(server, jan) == 3
    for wrong in ("4", "", "one"):
        refused = await jan.post("/succession", data=form(jan, option=wrong))
        assert (refused.status_code, problem_type(refused)) == (422, "succession-option-invalid")
    assert await option_of(server, jan) == 3

    history = (await jan.get("/api/v1/history")).json()["events"]
    changes = [e["detail"] for e in history if e["action"] == "succession:option:changed"]
    assert sorted((c["from"], c["to"]) for c in changes) == [(1, 2), (2, 3)]
    assert_no_number_in(urls)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", ["Overdracht via een notaris", "Zelf delen", "boven een testament"]),
        ("fr", ["Transfert par un notaire", "Partage par moi-même", "prime sur un testament"]),
        ("en", ["Transfer through a notary", "Sharing by me", "overrides a will"]),
    ],
)
async def test_the_choice_page_speaks_dutch_french_and_english(server, jan, language, words):
    switched = await jan.post("/language", data=form(jan, language=language, next="/succession"))
    page = await jan.get(switched.headers["location"])
    assert f'<html lang="{language}"' in page.text
    assert [w for w in words if w not in page.text] == []


async def test_a_low_assurance_session_is_told_to_log_in_with_eid_or_itsme(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as weak:
        await choose(weak, JAN, level="substantial")
        page = await weak.get("/succession")
        assert page.status_code == 200 and 'id="loa-warning"' in page.text
        refused = await weak.post("/succession", data=form(weak, option="2"))
        assert (refused.status_code, problem_type(refused)) == (403, "loa-too-low")
        assert "<form" in refused.text  # the page itself, not the bare error page
        assert (await weak.get("/api/v1/me")).json()["succession_option"] == 1


async def test_the_choice_page_needs_a_login(server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for path in ("/succession", "/inheritances"):
            response = await anonymous.get(path)
            assert (response.status_code, problem_type(response)) == (401, "login-required")


# -- the notary's desk -------------------------------------------------------------------------


async def test_the_desk_records_looks_up_opens_and_transfers(
    server, platform, office_id, jan, marie, notary, urls
):
    desk = f"/offices/{office_id}/succession"
    vault = (await notary.get(f"/offices/{office_id}/vault")).text
    assert f'href="{desk}"' in vault  # the office's tab, for its notaries
    await upload(jan, "testament.pdf", b"%PDF-1.4 the will\n%%EOF")
    await upload(jan, "photos.txt", b"holiday pictures")

    # The living: nothing to tell but that no death is recorded.
    found = await notary.post(f"{desk}/lookup", data=form(notary, nrn=JAN, reason="estate 17"))
    assert found.status_code == 200
    assert 'data-status="no-death-recorded"' in found.text
    assert "Jan Peeters" not in found.text

    today = datetime.now(UTC).date().isoformat()
    recorded = await notary.post(
        f"{desk}/deaths",
        data=form(notary, nrn=JAN, date_of_death=today, reference="Akte 2026/17"),
    )
    assert recorded.status_code == 303
    assert recorded.headers["location"].startswith(f"{desk}?recorded=")
    page = await notary.get(recorded.headers["location"])
    assert 'data-done="recorded"' in page.text and "Jan Peeters" in page.text
    again = await notary.post(
        f"{desk}/deaths", data=form(notary, nrn=JAN, date_of_death=today, reference="again")
    )
    assert (again.status_code, problem_type(again)) == (409, "death-recorded")

    found = await notary.post(f"{desk}/lookup", data=form(notary, nrn=JAN, reason="estate 17"))
    assert found.status_code == 200
    assert 'data-status="awaiting-notary"' in found.text
    assert "Jan Peeters" in found.text and 'id="withdraw-notice"' in found.text
    assert re.search(r'name="reason"[^>]*value="estate 17"', found.text)  # prefilled
    opened = await notary.post(
        f"{desk}/estates",
        data=form(
            notary,
            nrn=JAN,
            reason="estate 17",
            notice_id=re.search(r"/notices/([0-9a-f-]+)/withdraw", found.text).group(1),
            lookup_reason="estate 17",
        ),
    )
    assert opened.status_code == 303
    estate = opened.headers["location"]
    assert re.fullmatch(rf"/offices/{office_id}/estates/[0-9a-f-]+", estate)
    page = await notary.get(estate)
    assert page.status_code == 200 and 'data-status="estate-opened"' in page.text

    refused = await notary.post(f"{estate}/transfer", data=form(notary, confirm="yes"))
    assert (refused.status_code, problem_type(refused)) == (409, "heirs-missing")
    refused = await notary.post(f"{estate}/heirs", data=form(notary, heirs=f"{MARIE}\n{JAN}"))
    assert (refused.status_code, problem_type(refused)) == (422, "heir-is-deceased")
    assert f"{MARIE}\n{JAN}" in refused.text  # what was typed, to correct
    refused = await notary.post(f"{estate}/heirs", data=form(notary, heirs="85073003327"))
    assert (refused.status_code, problem_type(refused)) == (422, "nrn-invalid")
    saved = await notary.post(
        f"{estate}/heirs", data=form(notary, heirs=f" {MARIE}\n\n72.11.02-087.84 \n")
    )
    assert saved.status_code == 303
    page = await notary.get(saved.headers["location"])
    assert 'id="heirs-saved"' in page.text
    assert "Marie Dubois" in page.text and "72.11.02-xxx.xx" in page.text  # Emma: masked
    assert MARIE not in page.text and EMMA not in page.text

    unconfirmed = await notary.post(f"{estate}/transfer", data=form(notary))
    assert (unconfirmed.status_code, problem_type(unconfirmed)) == (422, "confirmation-required")
    done = await notary.post(f"{estate}/transfer", data=form(notary, confirm="yes"))
    assert done.status_code == 303
    page = await notary.get(estate)
    assert 'data-status="transferred"' in page.text and 'id="transfer"' not in page.text
    again = await notary.post(f"{estate}/transfer", data=form(notary, confirm="yes"))
    assert (again.status_code, problem_type(again)) == (409, "already-transferred")
    listing = await notary.get(desk)
    assert "Jan Peeters" in listing.text and 'data-status="transferred"' in listing.text
    assert f'href="{estate}"' in listing.text

    # Marie's inheritance: the documents, their downloads and a copy into her vault.
    page = await marie.get("/inheritances")
    assert re.search(r'class="inheritance-from">[^<]*Jan Peeters', page.text)
    downloads = re.findall(r'href="(/api/v1/inheritances/[^"]+/content)"', page.text)
    assert len(downloads) == 2
    contents = {(await marie.get(url)).content for url in downloads}
    assert contents == {b"%PDF-1.4 the will\n%%EOF", b"holiday pictures"}
    copy = re.findall(r'action="(/inheritances/[^"]+/copy)"', page.text)[0]
    copied = await marie.post(copy, data=form(marie))
    assert copied.status_code == 303 and copied.headers["location"].startswith("/inheritances?")
    assert 'id="copied"' in (await marie.get(copied.headers["location"])).text
    assert len((await marie.get("/api/v1/documents")).json()) == 1

    assert any(u.endswith("/succession/lookup") for u in urls)  # the hook saw them
    assert_no_number_in(urls)
    for response in (found, page, listing):
        assert_no_number_in(links(response))


async def test_refusals_on_the_desk_keep_what_was_typed_and_write_nothing(
    server, office_id, jan, notary
):
    desk = f"/offices/{office_id}/succession"
    cases = [
        ("85073003327", "2026-01-02", "R", "nrn-invalid"),
        (JAN, "", "R-1", "date-of-death-invalid"),
        (JAN, "2999-01-01", "R-2", "date-of-death-invalid"),
        (JAN, "2026-01-02", " ", "reference-invalid"),
    ]
    for nrn, when, reference, kind in cases:
        fields = {"nrn": nrn, "date_of_death": when, "reference": reference}
        refused = await notary.post(f"{desk}/deaths", data=form(notary, **fields))
        assert (refused.status_code, problem_type(refused)) == (422, kind), fields
        assert 'id="record-error"' in refused.text
        assert f'value="{fields["reference"]}"' in refused.text
    refused = await notary.post(f"{desk}/lookup", data=form(notary, nrn=JAN, reason=""))
    assert (refused.status_code, problem_type(refused)) == (422, "reason-required")
    assert f'value="{JAN}"' in refused.text  # in the page's body, never in a URL
    refused = await notary.post(f"{desk}/lookup", data=form(notary, nrn="12345", reason="x"))
    assert (refused.status_code, problem_type(refused)) == (422, "nrn-invalid")
    # An estate for someone alive: nothing to open.
    refused = await notary.post(f"{desk}/estates", data=form(notary, nrn=JAN, reason="x"))
    assert (refused.status_code, problem_type(refused)) == (404, "no-death-recorded")
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(DeathNotice)) == 0
        assert await db.scalar(select(func.count()).select_from(Estate)) == 0
    assert (await jan.get("/api/v1/me")).status_code == 200


async def test_a_wrong_notice_is_withdrawn_from_the_desk(server, office_id, jan, notary):
    desk = f"/offices/{office_id}/succession"
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    assert (await record_death(notary, JAN)).status_code == 201
    found = await notary.post(f"{desk}/lookup", data=form(notary, nrn=JAN, reason="file 9"))
    action = re.search(r'action="([^"]+/withdraw)"', found.text).group(1)

    refused = await notary.post(
        action, data=form(notary, reason=" ", nrn=JAN, lookup_reason="file 9")
    )
    assert (refused.status_code, problem_type(refused)) == (422, "reason-required")
    assert 'data-status="awaiting-notary"' in refused.text  # the answer, again
    withdrawn = await notary.post(
        action, data=form(notary, reason="wrong person", nrn=JAN, lookup_reason="file 9")
    )
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"].startswith(f"{desk}?withdrawn=")
    page = await notary.get(withdrawn.headers["location"])
    assert 'data-done="withdrawn"' in page.text and "Jan Peeters" in page.text
    async with server.sessions() as db:
        person = await db.get(Person, uuid.UUID(jan_id))
        assert person.deceased_on is None
    again = await notary.post(
        action, data=form(notary, reason="again", nrn=JAN, lookup_reason="file 9")
    )
    assert (again.status_code, problem_type(again)) == (404, "notice-not-found")


async def test_the_safeguard_over_a_notice_cannot_be_withdrawn(server, office_id, jan, notary):
    desk = f"/offices/{office_id}/succession"
    assert (await record_death(notary, JAN)).status_code == 201
    async with server.sessions() as db:
        notice = await db.scalar(select(DeathNotice))
        notice.safeguard_until = datetime.now(UTC) - timedelta(minutes=1)
        await db.commit()
        notice_id = notice.id
    found = await notary.post(f"{desk}/lookup", data=form(notary, nrn=JAN, reason="file 9"))
    assert 'id="withdraw-notice"' not in found.text
    refused = await notary.post(
        f"{desk}/notices/{notice_id}/withdraw",
        data=form(notary, reason="too late", nrn=JAN, lookup_reason="file 9"),
    )
    assert (refused.status_code, problem_type(refused)) == (409, "safeguard-over")


async def test_staff_are_told_the_desk_is_for_notaries_and_others_find_nothing(
    server, platform, office_id, staff, jan, notary
):
    await register_other_office(platform)
    desk = f"/offices/{office_id}/succession"
    response = await staff.get(desk)
    assert (response.status_code, problem_type(response)) == (403, "notary-only")
    assert 'href="' + desk + '"' not in (await staff.get(f"/offices/{office_id}/vault")).text
    recorded = await staff.post(
        f"{desk}/deaths",
        data=form(staff, nrn=JAN, date_of_death="2026-01-02", reference="R"),
    )
    assert (recorded.status_code, problem_type(recorded)) == (403, "notary-only")
    found = await staff.post(f"{desk}/lookup", data=form(staff, nrn=JAN, reason="x"))
    assert found.status_code == 403 and "Jan Peeters" not in found.text
    async with member(server, OFFICE_B_NOTARY) as other:
        for client in (jan, other):
            response = await client.get(desk)
            assert (response.status_code, problem_type(response)) == (404, "office-not-found")
            found = await client.post(f"{desk}/lookup", data=form(client, nrn=JAN, reason="x"))
            assert found.status_code == 404
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(DeathNotice)) == 0
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        response = await anonymous.get(desk)
        assert (response.status_code, problem_type(response)) == (401, "login-required")


async def test_another_offices_estate_does_not_exist_for_its_notary(
    server, platform, office_id, jan, notary
):
    office_b = await register_other_office(platform)
    desk = f"/offices/{office_id}/succession"
    assert (await record_death(notary, JAN)).status_code == 201
    opened = await notary.post(f"{desk}/estates", data=form(notary, nrn=JAN, reason="f 1"))
    estate_id = opened.headers["location"].rsplit("/", 1)[1]
    async with member(server, OFFICE_B_NOTARY) as other:
        for path in (f"/offices/{office_b}/estates/{estate_id}",):
            assert (await other.get(path)).status_code == 404
            heirs = await other.post(f"{path}/heirs", data=form(other, heirs=MARIE))
            assert (heirs.status_code, problem_type(heirs)) == (404, "estate-not-found")
            moved = await other.post(f"{path}/transfer", data=form(other, confirm="yes"))
            assert moved.status_code == 404
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Heir)) == 0


# -- an heir ------------------------------------------------------------------------------------


async def test_an_heir_without_room_is_told_so_in_the_page(
    server, platform, office_id, jan, marie, notary
):
    assert (await upload(jan, "big.txt", b"x" * 2_000_000)).status_code == 201
    # Marie's vault is all but full: the copy does not fit.
    for n in (1, 2):
        filled = await upload(marie, f"full-{n}.txt", b"y" * 3_500_000)
        assert filled.status_code == 201, filled.text
    desk = f"/offices/{office_id}/succession"
    assert (await record_death(notary, JAN)).status_code == 201
    opened = await notary.post(f"{desk}/estates", data=form(notary, nrn=JAN, reason="f 2"))
    estate = opened.headers["location"]
    assert (await notary.post(f"{estate}/heirs", data=form(notary, heirs=MARIE))).status_code == 303
    assert (
        await notary.post(f"{estate}/transfer", data=form(notary, confirm="yes"))
    ).status_code == 303

    page = await marie.get("/inheritances")
    copy = re.findall(r'action="(/inheritances/[^"]+/copy)"', page.text)[0]
    refused = await marie.post(copy, data=form(marie))
    assert (refused.status_code, problem_type(refused)) == (413, "quota-exceeded")
    assert "big.txt" in refused.text  # the inheritance, still there
    nothing = await marie.post(
        f"/inheritances/{uuid.uuid4()}/documents/{uuid.uuid4()}/copy", data=form(marie)
    )
    assert (nothing.status_code, problem_type(nothing)) == (404, "inheritance-not-found")


async def test_a_document_shared_with_the_deceased_is_not_inherited(
    server, office_id, jan, marie, notary
):
    mine, _theirs = await become_contacts(server, marie, jan)
    shared = (await upload(marie, "marie.txt", b"Marie's own")).json()
    response = await marie.post(
        f"/api/v1/documents/{shared['id']}/shares",
        json={"contact_id": mine, "when": "now"},
        headers=csrf(marie),
    )
    assert response.status_code == 201
    await upload(jan, "jan.txt", b"Jan's own")
    desk = f"/offices/{office_id}/succession"
    assert (await record_death(notary, JAN)).status_code == 201
    opened = await notary.post(f"{desk}/estates", data=form(notary, nrn=JAN, reason="f 3"))
    estate = opened.headers["location"]
    await notary.post(f"{estate}/heirs", data=form(notary, heirs=MARIE))
    await notary.post(f"{estate}/transfer", data=form(notary, confirm="yes"))
    page = await marie.get("/inheritances")
    assert re.findall(r'class="document-name">([^<]+)<', page.text) == ["jan.txt"]
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as emma:
        await login(emma, login_hint=EMMA)
        assert 'id="no-inheritances"' in (await emma.get("/inheritances")).text
