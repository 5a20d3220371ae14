"""The whole notary client portal driven by an office's own software over real HTTP.

The software authenticates with OAuth 2 client credentials and `private_key_jwt`
(`tests/support/office_software.py`); the citizens log in through the development identity
provider and use a cookie session with the CSRF header, as the pages' scripts do. The
issue's "Done when": the software publishes a deed for Jan and Marie, opens a dossier for
Jan, posts a document, sends a message and a questionnaire; Jan replies with an attachment,
answers half, logs out, comes back, finishes; the software reads it all back. And the
software stays in its own office.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import unquote

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from acts.models import Deed, Dossier, DossierDocument, DossierMessage, Questionnaire
from kluis.audit import HistoryEvent
from tests.support import files
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.office_software import software_client
from tests.support.offices import register_office
from tests.support.world import register_other_office

OFFICE = "Notaris Claes"
SOFTWARE = f"{OFFICE} (software)"
DEED_PDF = files.pdf(b"Akte van verkoop Kerkstraat 1, Leuven")
PLAN_PDF = files.pdf(b"Ontwerp van akte, versie 1")
REMARKS_PDF = files.pdf(b"Opmerkingen van Jan bij het ontwerp")
OLD_DEED_PDF = files.pdf(b"Vorige eigendomsakte")
QUESTIONS = [
    {"id": "buyer", "kind": "text", "label": "Name of the buyer", "required": True},
    {"id": "mortgage", "kind": "yes_no", "label": "Do you need a mortgage?", "required": True},
    {
        "id": "regime",
        "kind": "choice",
        "label": "Matrimonial regime",
        "required": True,
        "choices": ["community", "separation"],
    },
    {"id": "title", "kind": "file", "label": "Previous deed", "required": True},
]


@asynccontextmanager
async def citizen(server, nrn: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of the citizen's own, logged in."""
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await login(client, login_hint=nrn)
        yield client


def ok(response: httpx.Response, status: int = 200):
    assert response.status_code == status, (response.request.url, response.text)
    return response.json() if "json" in response.headers.get("content-type", "") else response


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def history(client: httpx.AsyncClient) -> list[dict]:
    return ok(await client.get("/api/v1/history"))["events"]


async def office_history(server, office_id: str) -> list[tuple[str, str]]:
    """The office's history (no API reads it: the office's pages do), as (action, actor)."""
    async with server.sessions() as db:
        rows = await db.execute(
            select(HistoryEvent.action, HistoryEvent.actor_label).where(
                HistoryEvent.subject_id == uuid.UUID(office_id)
            )
        )
        return [(action, actor) for action, actor in rows.all()]


@pytest.fixture
async def office_id(server, platform) -> str:
    return await register_office(platform)


@pytest.fixture
async def software(server, platform, office_id) -> AsyncIterator[httpx.AsyncClient]:
    async with await software_client(server, platform, office_id) as client:
        yield client


# -- 1. a deed ----------------------------------------------------------------------------


async def publish_deed(software, office_id: str) -> dict:
    deed = ok(
        await software.post(
            f"/api/v1/offices/{office_id}/deeds",
            data={
                "registry_number": "2025/0311",
                "kind": "sale",
                "date": "2025-02-14",
                "party": [JAN, MARIE],
            },
            files={"file": ("akte.pdf", DEED_PDF, "application/pdf")},
        ),
        201,
    )
    assert (deed["published_by"], deed["parties"]) == (SOFTWARE, 2)
    assert deed["seal"] == {"office": OFFICE, "verified": True}
    listed = ok(await software.get(f"/api/v1/offices/{office_id}/deeds"))
    assert [d["id"] for d in listed] == [deed["id"]]
    return deed


async def party_sees_deed(party: httpx.AsyncClient, deed: dict) -> None:
    mine = ok(await party.get("/api/v1/deeds"))
    assert [(d["id"], d["office"], d["sha256"]) for d in mine] == [
        (deed["id"], OFFICE, hashlib.sha256(DEED_PDF).hexdigest())
    ]
    assert mine[0]["seal"] == {"office": OFFICE, "verified": True}
    content = ok(await party.get(f"/api/v1/deeds/{deed['id']}/content"))
    assert content.content == DEED_PDF
    assert content.headers["x-kluis-seal"] == "verified"
    assert unquote(content.headers["x-kluis-seal-office"]) == OFFICE  # percent-encoded
    published = [e for e in await history(party) if e["action"] == "acts:deed:published"]
    assert [e["actor"] for e in published] == [SOFTWARE]


# -- 2. a dossier, a document, a message, a questionnaire ---------------------------------


async def open_dossier(software, office_id: str) -> dict:
    dossier = ok(
        await software.post(
            "/api/v1/dossiers",
            json={
                "office_id": office_id,
                "reference": "2025/0042",
                "description": "Aankoop woning Kerkstraat 1, Leuven",
                "clients": [JAN],
                "steps": [
                    {"label": "Titelonderzoek", "done": True},
                    {"label": "Ontwerpakte"},
                    {"label": "Ondertekening"},
                ],
            },
        ),
        201,
    )
    assert (dossier["side"], dossier["progress"], dossier["office"]) == ("office", "1 / 3", OFFICE)
    return dossier


async def software_fills_dossier(software, dossier_id: str) -> tuple[dict, dict, dict]:
    base = f"/api/v1/dossiers/{dossier_id}"
    document = ok(
        await software.post(
            f"{base}/documents",
            params={"name": "Ontwerpakte.pdf", "tab": "documents"},
            content=PLAN_PDF,
        ),
        201,
    )
    assert (document["tab"], document["side"], document["author"]) == (
        "documents",
        "office",
        SOFTWARE,
    )
    assert document["seal"]["verified"] is True
    message = ok(
        await software.post(
            f"{base}/messages",
            json={"subject": "Ontwerpakte", "body": "Graag uw opmerkingen bij het ontwerp."},
        ),
        201,
    )
    assert (message["side"], message["author"]) == ("office", SOFTWARE)
    questionnaire = ok(
        await software.post(
            f"{base}/questionnaires",
            json={"title": "Intake", "recipient_nrn": JAN, "questions": QUESTIONS},
        ),
        201,
    )
    assert (questionnaire["status"], questionnaire["sent_by"]) == ("sent", SOFTWARE)
    steps = [
        {"label": "Titelonderzoek", "done": True},
        {"label": "Ontwerpakte", "done": True},
        {"label": "Ondertekening", "done": False},
    ]
    updated = ok(await software.patch(base, json={"status": "in_progress", "steps": steps}))
    assert (updated["status"], updated["progress"]) == ("in_progress", "2 / 3")
    return document, message, questionnaire


async def software_refused(server, software, office_id: str, dossier_id: str, qid: str) -> None:
    """What the office's side may not do, each a clear 4xx that changes nothing."""
    base = f"/api/v1/dossiers/{dossier_id}"
    before = await counts(server)
    refusals = [
        (
            await software.put(f"{base}/questionnaires/{qid}", json={"answers": {"buyer": "X"}}),
            403,
            "recipient-only",
        ),
        (
            await software.post(
                f"{base}/documents", params={"name": "x.pdf", "tab": "delivered"}, content=PLAN_PDF
            ),
            422,
            "dossier-tab-invalid",
        ),
        (
            await software.post(f"{base}/messages", json={"subject": "Lang", "body": "x" * 4001}),
            422,
            "message-too-long",
        ),
        (
            await software.post(
                f"{base}/questionnaires",
                json={"title": "Marie", "recipient_nrn": MARIE, "questions": QUESTIONS},
            ),
            422,
            "recipient-not-a-client",
        ),
        (
            await software.post(
                f"/api/v1/offices/{office_id}/deeds",
                data={
                    "registry_number": "2099/1",
                    "kind": "sale",
                    "date": "2099-01-01",
                    "party": JAN,
                },
                files={"file": ("akte.pdf", DEED_PDF, "application/pdf")},
            ),
            422,
            "deed-date-in-future",
        ),
    ]
    for response, status, kind in refusals:
        assert (response.status_code, response.json()["type"]) == (status, kind), response.text
    assert await counts(server) == before
    # The answers are Jan's until he finishes.
    assert ok(await software.get(f"{base}/questionnaires/{qid}"))["answers"] is None


# -- 3. Jan -------------------------------------------------------------------------------


async def jan_reads_and_replies(jan, dossier_id: str, document: dict, message: dict) -> dict:
    base = f"/api/v1/dossiers/{dossier_id}"
    [seen] = ok(await jan.get("/api/v1/dossiers", params={"q": "kerkstraat"}))
    assert (seen["id"], seen["side"], seen["progress"]) == (dossier_id, "client", "2 / 3")
    assert ok(await jan.get("/api/v1/dossiers", params={"status": "closed"})) == []
    assert seen["unread"] == {"correspondence": 0, "documents": 1, "delivered": 0, "messages": 1}

    [shown] = ok(await jan.get(f"{base}/documents", params={"tab": "documents"}))
    assert (shown["id"], shown["author"]) == (document["id"], SOFTWARE)
    plan = ok(await jan.get(f"{base}/documents/{document['id']}/content"))
    assert plan.content == PLAN_PDF and plan.headers["x-kluis-seal"] == "verified"
    [received] = ok(await jan.get(f"{base}/messages"))
    assert (received["id"], received["author"]) == (message["id"], SOFTWARE)
    assert ok(await jan.get(base))["unread"]["documents"] == 0
    assert ok(await jan.get(base))["unread"]["messages"] == 0

    reply = ok(
        await jan.post(
            f"{base}/messages",
            data={
                "subject": "Re: Ontwerpakte",
                "body": "Mijn opmerkingen staan in de bijlage.",
                "reply_to": message["id"],
            },
            files={"attachment": ("Opmerkingen.pdf", REMARKS_PDF, "application/pdf")},
            headers=csrf(jan),
        ),
        201,
    )
    assert (reply["side"], reply["author"]) == ("client", "Jan Peeters")
    assert reply["reply_to"]["id"] == message["id"]
    assert [a["name"] for a in reply["attachments"]] == ["Opmerkingen.pdf"]
    return reply


async def jan_answers_half(jan, dossier_id: str, qid: str) -> None:
    url = f"/api/v1/dossiers/{dossier_id}/questionnaires/{qid}"
    [listed] = ok(await jan.get(f"/api/v1/dossiers/{dossier_id}/questionnaires"))
    assert listed["id"] == qid
    half = ok(
        await jan.put(
            url, json={"answers": {"buyer": "Jan Peeters", "mortgage": True}}, headers=csrf(jan)
        )
    )
    assert (half["status"], half["step"]) == ("in_progress", 2)


async def jan_finishes(jan, dossier_id: str, qid: str) -> dict:
    url = f"/api/v1/dossiers/{dossier_id}/questionnaires/{qid}"
    resumed = ok(await jan.get(url))
    assert resumed["step"] == 2  # where he stopped
    assert resumed["answers"] == {"buyer": "Jan Peeters", "mortgage": True}
    ok(await jan.put(url, json={"answers": {"regime": "separation"}}, headers=csrf(jan)))
    filed = ok(
        await jan.put(
            f"{url}/files/title",
            params={"name": "Vorige akte.pdf"},
            content=OLD_DEED_PDF,
            headers=csrf(jan),
        )
    )
    assert filed["step"] == 4
    finished = ok(await jan.post(url, headers=csrf(jan)))
    assert finished["status"] == "finished"

    base = f"/api/v1/dossiers/{dossier_id}"
    [delivered] = ok(await jan.get(f"{base}/documents", params={"tab": "delivered"}))
    assert (delivered["id"], delivered["side"], delivered["author"]) == (
        finished["result_document_id"],
        "client",
        "Jan Peeters",
    )
    result = ok(await jan.get(f"{base}/documents/{delivered['id']}/content"))
    assert result.headers["content-type"] == "application/pdf"
    text = pdf_text(result.content)
    for expected in ("Intake", "Jan Peeters", "separation", "Vorige akte.pdf", "2025/0042"):
        assert expected in text, (expected, text)
    return finished


# -- 4. the software reads it back --------------------------------------------------------


async def software_reads_back(
    software, office_id: str, dossier_id: str, message: dict, reply: dict, finished: dict
) -> None:
    base = f"/api/v1/dossiers/{dossier_id}"
    [mine] = ok(await software.get("/api/v1/dossiers", params={"office_id": office_id}))
    assert mine["id"] == dossier_id
    # Its own document and message are read; Jan's reply and delivery are not.
    assert mine["unread"] == {"correspondence": 0, "documents": 0, "delivered": 1, "messages": 1}

    messages = ok(await software.get(f"{base}/messages"))
    assert [m["id"] for m in messages] == [reply["id"], message["id"]]
    answer = messages[0]
    assert (answer["author"], answer["subject"]) == ("Jan Peeters", "Re: Ontwerpakte")
    assert answer["reply_to"] == {
        "id": message["id"],
        "author": SOFTWARE,
        "subject": "Ontwerpakte",
        "body": "Graag uw opmerkingen bij het ontwerp.",
        "created_at": message["created_at"],
    }
    [attachment] = answer["attachments"]
    remarks = ok(
        await software.get(f"{base}/messages/{reply['id']}/attachments/{attachment['id']}/content")
    )
    assert remarks.content == REMARKS_PDF

    [delivered] = ok(await software.get(f"{base}/documents", params={"tab": "delivered"}))
    assert delivered["id"] == finished["result_document_id"]
    result = ok(await software.get(f"{base}/documents/{delivered['id']}/content"))
    assert "Jan Peeters" in pdf_text(result.content)
    assert ok(await software.get(base))["unread"] == dict.fromkeys(
        ("correspondence", "documents", "delivered", "messages"), 0
    )

    questionnaire = ok(await software.get(f"{base}/questionnaires/{finished['id']}"))
    assert questionnaire["answers"]["regime"] == "separation"
    title = ok(await software.get(f"{base}/questionnaires/{finished['id']}/files/title"))
    assert title.content == OLD_DEED_PDF


async def test_the_office_software_runs_the_whole_portal(server, platform, office_id, software):
    async with citizen(server, JAN) as jan, citizen(server, MARIE) as marie:
        # 1. A deed for Jan and Marie.
        deed = await publish_deed(software, office_id)
        for party in (jan, marie):
            await party_sees_deed(party, deed)

        # 2. A dossier for Jan, with a document, a message and a questionnaire.
        dossier = await open_dossier(software, office_id)
        document, message, questionnaire = await software_fills_dossier(software, dossier["id"])
        await software_refused(server, software, office_id, dossier["id"], questionnaire["id"])

        # 3. Jan reads, replies with an attachment, answers half and logs out.
        reply = await jan_reads_and_replies(jan, dossier["id"], document, message)
        await jan_answers_half(jan, dossier["id"], questionnaire["id"])
        ok(await jan.post("/auth/logout", headers=csrf(jan)), 303)
        assert (await jan.get("/api/v1/dossiers")).status_code == 401

    # He comes back another day, in a new browser, and finishes.
    async with citizen(server, JAN) as jan:
        finished = await jan_finishes(jan, dossier["id"], questionnaire["id"])
        jan_history = {e["action"]: e["actor"] for e in await history(jan)}
        notices = ok(await jan.get("/api/v1/notifications"))
    # Jan heard of each, from the office (its software is how the office works).
    assert sorted(n["kind"] for n in notices) == [
        "deed",
        "dossier",
        "dossier",
        "dossier_message",
        "questionnaire",
    ]
    assert all(n["text"].startswith(OFFICE + " ") for n in notices), notices

    # 4. The software reads Jan's reply, attachment, delivered PDF and answers.
    await software_reads_back(software, office_id, dossier["id"], message, reply, finished)

    assert jan_history["acts:dossier:opened"] == SOFTWARE
    assert jan_history["acts:questionnaire:received"] == SOFTWARE
    assert jan_history["acts:questionnaire:finished"] == "Jan Peeters"
    events = await office_history(server, office_id)
    by_software = {action for action, actor in events if actor == SOFTWARE}
    assert {
        "acts:deed:published",
        "acts:dossier:opened",
        "acts:dossier:document-added",
        "acts:dossier:message-sent",
        "acts:questionnaire:sent",
    } <= by_software, events
    by_jan = {action for action, actor in events if actor == "Jan Peeters"}
    assert {"acts:dossier:message-sent", "acts:questionnaire:finished"} <= by_jan
    # The software is never named after a person, nor a person after the software.
    assert not by_software & {"acts:questionnaire:finished"}
    assert ("vault:document:downloaded", SOFTWARE) in events  # Jan's files, read back


# -- 5. the software stays in its office --------------------------------------------------


async def counts(server) -> dict[str, int]:
    """Rows the refused calls below must not add to."""
    async with server.sessions() as db:
        return {
            model.__name__: await db.scalar(select(func.count()).select_from(model)) or 0
            for model in (Deed, Dossier, DossierDocument, DossierMessage, Questionnaire)
        }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/deeds"),
        ("GET", "/api/v1/documents"),
        ("GET", "/api/v1/history"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/companies"),
        ("GET", "/api/v1/from-offices"),
    ],
)
async def test_the_software_is_no_citizen(server, software, method, path):
    response = await software.request(method, path)

    assert response.status_code == 401, response.text


async def test_a_token_of_office_a_finds_nothing_of_office_b(server, platform, office_id, software):
    office_b = await register_other_office(platform)
    async with await software_client(server, platform, office_b) as software_b:
        theirs = ok(
            await software_b.post(
                "/api/v1/dossiers",
                json={
                    "office_id": office_b,
                    "reference": "B/0001",
                    "description": "Schenking",
                    "clients": [MARIE],
                },
            ),
            201,
        )
        sent = ok(
            await software_b.post(
                f"/api/v1/dossiers/{theirs['id']}/questionnaires",
                json={"title": "B", "recipient_nrn": MARIE, "questions": QUESTIONS[:1]},
            ),
            201,
        )
    before = await counts(server)
    base = f"/api/v1/dossiers/{theirs['id']}"
    deed_form = {"registry_number": "X/1", "kind": "sale", "date": "2025-01-02", "party": JAN}
    attempts = [
        ("GET", base, {}),
        ("PATCH", base, {"json": {"status": "closed"}}),
        ("GET", f"{base}/documents", {}),
        ("POST", f"{base}/documents", {"params": {"name": "x.pdf"}, "content": PLAN_PDF}),
        ("GET", f"{base}/messages", {}),
        ("POST", f"{base}/messages", {"json": {"subject": "Hallo", "body": "Van kantoor A"}}),
        ("GET", f"{base}/questionnaires", {}),
        ("GET", f"{base}/questionnaires/{sent['id']}", {}),
        (
            "POST",
            f"{base}/questionnaires",
            {"json": {"title": "A", "recipient_nrn": MARIE, "questions": QUESTIONS[:1]}},
        ),
        ("GET", "/api/v1/dossiers", {"params": {"office_id": office_b}}),
        (
            "POST",
            "/api/v1/dossiers",
            {
                "json": {
                    "office_id": office_b,
                    "reference": "A/1",
                    "description": "x",
                    "clients": [JAN],
                }
            },
        ),
        ("GET", f"/api/v1/offices/{office_b}/deeds", {}),
        (
            "POST",
            f"/api/v1/offices/{office_b}/deeds",
            {"data": deed_form, "files": {"file": ("a.pdf", DEED_PDF, "application/pdf")}},
        ),
        ("GET", f"/api/v1/offices/{office_b}/documents/", {}),
    ]
    for method, path, options in attempts:
        response = await software.request(method, path, **options)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"] in ("dossier-not-found", "office-not-found"), response.text

    assert ok(await software.get("/api/v1/dossiers")) == []  # office B's is not listed
    assert await counts(server) == before
    async with server.sessions() as db:
        actors = set(
            await db.scalars(
                select(HistoryEvent.actor_label).where(
                    HistoryEvent.subject_id == uuid.UUID(office_b)
                )
            )
        )
    assert SOFTWARE not in actors
