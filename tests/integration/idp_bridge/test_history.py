"""The history over real HTTP: the API, the page, the CSV and the PDF, filtered by kind and
period, with the chain's verdict, for the logged-in citizen only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import httpx
import pypdf
import pytest
from sqlalchemy import update

from idp_bridge.models import Person
from kluis import audit
from kluis.audit import Actor, HistoryEvent
from tests.support import files
from tests.support.history import recorded_at
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.vault import upload

ZOE = "Zoë Dubois-Ørsted"
HYPERLINK = '=HYPERLINK("evil.example?leak","Klik")'
# Backdated events of the citizen (UTC), before they log in today. The Christmas letter is
# stored at 00:30 on 1 February in Brussels, which is still 31 January in UTC.
PAST = [
    (datetime(2025, 1, 10, 9, 0, tzinfo=UTC), "idp:login:succeeded", "Log in with itsme", {}),
    (datetime(2025, 1, 31, 23, 30, tzinfo=UTC), "vault:document:uploaded", "Kerstbrief.pdf", {}),
    (datetime(2025, 2, 15, 10, 0, tzinfo=UTC), "vault:document:uploaded", HYPERLINK, {}),
    (
        datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        "vault:document:refused",
        "virus.exe",
        {"reason": "malware-found"},
    ),
    (datetime(2025, 3, 5, 8, 0, tzinfo=UTC), "vault:quota:changed", "1GB", {}),
]


async def record_at(db, person_id, moment: datetime, action: str, target: str, detail) -> None:
    """`audit.record` as it would have run at `moment`: the chain stays intact."""
    actor = Actor(label=ZOE, id=person_id, ip="192.0.2.7")
    with recorded_at(moment):
        await audit.record(
            db, subject_id=person_id, action=action, actor=actor, target=target, detail=detail
        )
    await db.commit()


async def rename(server, person_id, given_name: str, surname: str) -> None:
    async with server.sessions() as db:
        await db.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(given_name=given_name, surname=surname)
        )
        await db.commit()


@pytest.fixture
async def zoe(server, platform, browser_client):
    """A citizen with a year of history, logged in today (and named with accents)."""
    async with server.sessions() as db:
        person, _ = await platform.identity.people.register(
            db, nrn=JAN, given_name="Zoë", surname="Dubois-Ørsted", email=None, language="en"
        )
        for moment, action, target, detail in PAST:
            await record_at(db, person.id, moment, action, target, detail)
    await login(browser_client, login_hint=JAN)
    await rename(server, person.id, "Zoë", "Dubois-Ørsted")  # the provider says Jan Peeters
    browser_client.person_id = person.id
    return browser_client


def targets(events: list[dict]) -> list[str | None]:
    return [e["target"] for e in events]


def csv_rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def pdf_text(response: httpx.Response) -> str:
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


async def tamper(server, person_id) -> None:
    async with server.sessions() as db:
        await db.execute(
            update(HistoryEvent)
            .where(HistoryEvent.subject_id == person_id, HistoryEvent.target == "Kerstbrief.pdf")
            .values(target="Nieuwjaarsbrief.pdf")
        )
        await db.commit()


# -- the API -----------------------------------------------------------------------------


async def test_api_filters_by_kind(server, zoe):
    documents = (await zoe.get("/api/v1/history", params={"kind": "documents"})).json()
    access = (await zoe.get("/api/v1/history", params={"kind": "access"})).json()

    assert targets(documents["events"]) == ["virus.exe", HYPERLINK, "Kerstbrief.pdf"]
    assert {e["kind"] for e in documents["events"]} == {"documents"}
    assert documents["total"] == 3 and documents["chain_verified"] is True
    assert [e["action"] for e in access["events"]] == ["idp:login:succeeded"] * 2


async def test_api_period_is_in_utc_and_a_bare_until_date_includes_its_day(server, zoe):
    response = await zoe.get(
        "/api/v1/history", params={"since": "2025-02-01", "until": "2025-03-01"}
    )
    assert targets(response.json()["events"]) == ["virus.exe", HYPERLINK]


async def test_api_keeps_since_and_action_as_they_were(server, zoe):
    response = await zoe.get(
        "/api/v1/history", params={"since": "2025-03-01T00:00:00", "action": "vault:"}
    )
    events = response.json()["events"]
    assert [e["action"] for e in events] == ["vault:quota:changed", "vault:document:refused"]
    assert set(events[0]) >= {"id", "at", "action", "actor", "target", "ip", "detail"}
    assert events[1]["ip"] == "192.0.2.7" and events[1]["actor"] == ZOE


async def test_api_pages_through_a_long_history(server, zoe):
    first = (await zoe.get("/api/v1/history", params={"limit": 4})).json()
    rest = (
        await zoe.get("/api/v1/history", params={"limit": 4, "before": first["next_before"]})
    ).json()

    assert len(first["events"]) == 4 and first["total"] == 6
    assert targets(rest["events"]) == ["Kerstbrief.pdf", "Log in with itsme"]
    assert rest["next_before"] is None


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"kind": "parties"}, "history-kind-unknown"),
        ({"since": "2025-03-02", "until": "2025-03-01"}, "history-period-reversed"),
        ({"since": "last tuesday"}, "invalid-date"),
        ({"until": "2025-02-30"}, "invalid-date"),
    ],
)
async def test_api_bad_filters_are_a_problem_with_a_stable_type(server, zoe, params, problem):
    response = await zoe.get("/api/v1/history", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == problem


# -- the page ------------------------------------------------------------------------------


async def test_page_filters_by_belgian_days_and_kind_and_keeps_the_form(server, zoe):
    page = await zoe.get(
        "/history", params={"kind": "documents", "from": "2025-02-01", "to": "2025-02-28"}
    )

    assert page.status_code == 200
    assert "Kerstbrief.pdf" in page.text  # 1 February in Brussels
    assert "2025-02-01 00:30:00" in page.text
    assert "virus.exe" not in page.text and "Log in with itsme" not in page.text
    assert '<option value="documents" selected>' in page.text
    assert 'name="from" value="2025-02-01"' in page.text
    assert 'name="to" value="2025-02-28"' in page.text
    assert "/history/export.csv?kind=documents&amp;from=2025-02-01&amp;to=2025-02-28" in page.text


async def test_page_names_who_did_what_when_from_where_on_what(server, zoe):
    page = await zoe.get("/history", params={"kind": "documents", "from": "2025-03-01"})
    row = page.text.split('data-action="vault:document:refused"')[1].split("</tr>")[0]

    assert "2025-03-01 13:00:00" in row  # noon UTC, 13:00 in Brussels
    for shown in ("Document refused", ZOE, "virus.exe", "192.0.2.7", "Malware found"):
        assert shown in row


async def test_page_says_the_history_is_intact(server, zoe):
    page = await zoe.get("/history")
    assert 'data-chain="intact"' in page.text
    assert "The history is intact (verified)" in page.text


async def test_page_says_the_history_was_tampered_with_when_a_row_was_edited(server, zoe):
    await tamper(server, zoe.person_id)

    page = await zoe.get("/history")
    api = (await zoe.get("/api/v1/history")).json()

    assert 'data-chain="broken"' in page.text
    assert "The history has been tampered with" in page.text
    assert api["chain_verified"] is False


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"kind": "parties"}, "history-kind-unknown"),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "history-period-reversed"),
        ({"from": "01/03/2025"}, "invalid-date"),
    ],
)
async def test_page_bad_filters_are_explained_above_the_form(server, zoe, params, problem):
    page = await zoe.get("/history", params=params)
    assert page.status_code == 422
    assert f'data-problem-type="{problem}"' in page.text
    assert 'id="history-filters"' in page.text


async def test_page_shows_a_hundred_entries_and_links_to_older_ones(server, zoe):
    async with server.sessions() as db:
        for n in range(120):
            moment = datetime(2025, 6, 1, 12, n % 60, tzinfo=UTC)
            await record_at(db, zoe.person_id, moment, "vault:document:downloaded", f"d{n}", {})

    first = await zoe.get("/history", params={"kind": "documents"})
    older = first.text.split('id="older-entries"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await zoe.get(older.replace("&amp;", "&"))

    assert first.text.count("<tr ") == 100
    assert "123 entries" in first.text
    assert second.text.count("<tr ") == 23
    assert "Kerstbrief.pdf" in second.text and 'id="older-entries"' not in second.text


# -- the exports ---------------------------------------------------------------------------


async def test_csv_export_honours_the_filters_and_is_an_attachment(server, zoe):
    response = await zoe.get(
        "/history/export.csv", params={"kind": "documents", "from": "2025-02-01"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="kluis-history-')
    assert disposition.endswith('.csv"')
    rows = csv_rows(response)
    assert rows[0][:3] == ["When", "Kind", "What"]
    assert [row[4] for row in rows[1:]] == ["virus.exe", "'" + HYPERLINK, "Kerstbrief.pdf"]
    assert rows[1][0] == "2025-03-01 13:00:00+01:00"
    assert rows[1][3] == ZOE and rows[1][5] == "192.0.2.7" and rows[1][6] == "Malware found"


async def test_csv_export_neutralises_a_formula_in_an_uploaded_documents_name(server, zoe):
    name = '=HYPERLINK("evil.example?x","Klik").pdf'
    assert (await upload(zoe, name, files.pdf())).status_code == 201

    rows = csv_rows(await zoe.get("/history/export.csv", params={"from": "2026-01-01"}))

    uploaded = [row for row in rows if row[7] == "vault:document:uploaded"]
    assert [row[4] for row in uploaded] == ["'" + name]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_csv_headings_speak_the_citizens_language(server, zoe):
    await zoe.patch("/api/v1/me", json={"language": "fr"}, headers=csrf(zoe))
    rows = csv_rows(await zoe.get("/history/export.csv", params={"kind": "access"}))
    assert rows[0][0] == "Date" and rows[0][3] == "Qui"
    assert rows[1][2] == "Connexion"


async def test_pdf_export_honours_the_filters_and_names_the_person(server, zoe):
    response = await zoe.get(
        "/history/export.pdf", params={"kind": "documents", "to": "2025-02-28"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].endswith('.pdf"')
    text = pdf_text(response)
    assert ZOE in text
    assert "until 2025-02-28" in text
    assert "The history is intact (verified)" in text
    assert "Kerstbrief.pdf" in text and "virus.exe" not in text
    assert "2025-02-01 00:30:00" in text


async def test_pdf_export_says_when_the_history_was_tampered_with(server, zoe):
    await tamper(server, zoe.person_id)
    text = pdf_text(await zoe.get("/history/export.pdf"))
    assert "The history has been tampered with" in text


async def test_exports_refuse_bad_filters_like_the_page(server, zoe):
    for path in ("/history/export.csv", "/history/export.pdf"):
        response = await zoe.get(path, params={"kind": "parties"})
        assert response.status_code == 422
        assert 'data-problem-type="history-kind-unknown"' in response.text


# -- whose history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/history", "/history/export.csv", "/history/export.pdf", "/api/v1/history"]
)
async def test_the_history_needs_a_login(server, browser_client, path):
    response = await browser_client.get(path)
    assert response.status_code == 401
    assert "Kerstbrief" not in response.text


async def test_nobody_sees_anothers_history(server, zoe):
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as marie:
        await login(marie, login_hint=MARIE)
        api = (await marie.get("/api/v1/history", params={"limit": 1000})).json()
        page = await marie.get("/history")
        csv_export = await marie.get("/history/export.csv")
        pdf_export = await marie.get("/history/export.pdf")

    foreign = [target for _, _, target, _ in PAST if target != "Log in with itsme"]
    assert api["total"] == 1 and api["events"][0]["actor"] == "Marie Dubois"
    for text in (page.text, csv_export.content.decode("utf-8-sig"), pdf_text(pdf_export)):
        assert not any(target in text for target in foreign)
        assert ZOE not in text
    zoes = csv_rows(await zoe.get("/history/export.csv"))
    assert not any("Marie Dubois" in row for row in zoes)
