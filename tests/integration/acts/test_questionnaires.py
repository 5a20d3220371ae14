"""Questionnaires over real HTTP: office A's notary sends one to Jan, a client of a dossier;
Jan answers half, logs out, comes back where he stopped, and finishes; the result is a PDF
on the dossier's "delivered" tab."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from acts.models import DossierDocument, Questionnaire
from tests.support import files
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.offices import member
from tests.support.questionnaires import EVERY_KIND, build, open_dossier
from tests.support.world import OFFICE_B_NOTARY, register_other_office


@pytest.fixture
async def dossier(platform, office_id) -> str:
    return await open_dossier(platform, office_id, [JAN])


def url(dossier: str, questionnaire: str | None = None) -> str:
    base = f"/api/v1/dossiers/{dossier}/questionnaires"
    return f"{base}/{questionnaire}" if questionnaire else base


async def send(notary, dossier: str, body: dict | None = None):
    return await notary.post(url(dossier), json=body or build(JAN), headers=csrf(notary))


async def save(client, dossier: str, questionnaire: str, answers: dict):
    return await client.put(
        url(dossier, questionnaire), json={"answers": answers}, headers=csrf(client)
    )


async def row(platform, questionnaire: str) -> Questionnaire:
    async with platform.session_maker() as db:
        found = await db.get(Questionnaire, uuid.UUID(questionnaire))
        assert found is not None
        return found


async def test_jan_answers_half_comes_back_and_finishes(
    server, platform, notary, jan, dossier, office_id
):
    sent = await send(notary, dossier)
    assert sent.status_code == 201, sent.text
    qid = sent.json()["id"]
    assert sent.json()["status"] == "sent"
    assert [q["kind"] for q in sent.json()["questions"]] == [q["kind"] for q in EVERY_KIND]
    listed = (await jan.get(url(dossier))).json()
    assert [q["id"] for q in listed] == [qid]
    notices = (await jan.get("/api/v1/notifications")).json()
    assert [(n["kind"], n["link"]) for n in notices] == [
        ("questionnaire", f"/dossiers/{dossier}/questionnaires/{qid}")
    ]

    half = await save(jan, dossier, qid, {"buyer": "Jan Peeters", "price": 325000})
    assert half.status_code == 200, half.text
    assert (half.json()["status"], half.json()["step"]) == ("in_progress", 2)
    # The answers are sealed at rest: no answer in the clear in the row.
    sealed = (await row(platform, qid)).answers_sealed
    assert sealed and b"Jan Peeters" not in sealed

    await jan.post("/auth/logout", headers=csrf(jan))
    assert (await jan.get(url(dossier, qid))).status_code == 401
    await login(jan, login_hint=JAN)
    resumed = (await jan.get(url(dossier, qid))).json()
    assert resumed["step"] == 2
    assert resumed["answers"] == {"buyer": "Jan Peeters", "price": 325000}

    early = await jan.post(url(dossier, qid), headers=csrf(jan))
    assert early.status_code == 422
    assert early.json()["type"] == "questionnaire-incomplete"
    assert "Preferred date of signing" in early.json()["detail"]
    assert (await row(platform, qid)).status == "in_progress"

    rest = {"signing": "2026-03-01", "mortgage": True, "regime": "separation"}
    assert (await save(jan, dossier, qid, rest)).json()["step"] == 5
    deed = files.pdf(b"previous deed")
    uploaded = await jan.put(
        f"{url(dossier, qid)}/files/deed",
        params={"name": "Vorige akte.pdf"},
        content=deed,
        headers=csrf(jan),
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["answers"]["deed"]["name"] == "Vorige akte.pdf"
    assert uploaded.json()["step"] == 6
    # The office reads the answers only once Jan finished.
    assert (await notary.get(url(dossier, qid))).json()["answers"] is None

    finished = await jan.post(url(dossier, qid), headers=csrf(jan))
    assert finished.status_code == 200, finished.text
    assert finished.json()["status"] == "finished"
    result_id = finished.json()["result_document_id"]
    async with platform.session_maker() as db:
        delivered = (
            await db.scalars(
                select(DossierDocument).where(DossierDocument.dossier_id == uuid.UUID(dossier))
            )
        ).all()
    assert [(str(d.document_id), d.tab, d.side, d.author_label) for d in delivered] == [
        (result_id, "delivered", "client", "Jan Peeters")
    ]

    pdf = await jan.get(f"{url(dossier, qid)}/result")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ("Intake", "Jan Peeters", "325000", "2026-03-01", "separation", "2026/0042"):
        assert expected in text, (expected, text)
    assert "Vorige akte.pdf" in text
    assert (await notary.get(f"{url(dossier, qid)}/result")).content == pdf.content
    office_view = (await notary.get(url(dossier, qid))).json()
    assert office_view["answers"]["regime"] == "separation"
    file = await notary.get(f"{url(dossier, qid)}/files/deed")
    assert file.content == deed

    again = await save(jan, dossier, qid, {"buyer": "Someone else"})
    assert (again.status_code, again.json()["type"]) == (409, "questionnaire-finished")
    history = (await jan.get("/api/v1/history")).json()["events"]
    assert "acts:questionnaire:finished" in [e["action"] for e in history]


async def test_wrong_answer_types_save_nothing(server, platform, notary, jan, dossier):
    qid = (await send(notary, dossier)).json()["id"]
    await save(jan, dossier, qid, {"buyer": "Jan"})
    before = await row(platform, qid)

    for answers in (
        {"price": "a lot"},
        {"signing": "01/03/2026"},
        {"mortgage": "yes"},
        {"regime": "polygamy"},
        {"buyer": "x" * 2001},
        {"deed": "akte.pdf"},
        {"buyer": "Jan Peeters", "price": "325.000"},  # one wrong value: nothing saved
        {"nothing": 1},
    ):
        refused = await save(jan, dossier, qid, answers)
        assert refused.status_code == 422, (answers, refused.text)
        assert refused.json()["type"] == "answer-invalid"

    after = await row(platform, qid)
    assert (after.answers_sealed, after.step, after.status) == (
        before.answers_sealed,
        before.step,
        before.status,
    )
    not_a_file = await jan.put(
        f"{url(dossier, qid)}/files/buyer",
        params={"name": "a.pdf"},
        content=files.pdf(),
        headers=csrf(jan),
    )
    assert (not_a_file.status_code, not_a_file.json()["type"]) == (422, "answer-invalid")
    assert (await row(platform, qid)).answers_sealed == before.answers_sealed


async def test_bad_questionnaires_and_recipients_are_refused(server, notary, jan, dossier):
    for body, kind in (
        (build(MARIE), "recipient-not-a-client"),
        (build("12345678901"), "nrn-invalid"),
        (build(JAN, questions=[]), "questionnaire-invalid"),
        (build(JAN, questions=[{"kind": "colour", "label": "Hm"}]), "questionnaire-invalid"),
        (build(JAN, questions=[{"kind": "choice", "label": "A", "choices": ["x"]}]), None),
        (build(JAN, questions=[{"kind": "text", "label": "x" * 301}]), "questionnaire-invalid"),
    ):
        refused = await send(notary, dossier, body)
        assert refused.status_code == 422, refused.text
        if kind:
            assert refused.json()["type"] == kind
    assert (await notary.get(url(dossier))).json() == []


async def test_who_may_do_what(server, platform, notary, jan, marie, dossier):
    qid = (await send(notary, dossier)).json()["id"]

    built = await send(jan, dossier)
    assert (built.status_code, built.json()["type"]) == (403, "office-only")
    answered = await save(notary, dossier, qid, {"buyer": "Sophie"})
    assert (answered.status_code, answered.json()["type"]) == (403, "recipient-only")

    await register_other_office(platform)
    async with member(server, OFFICE_B_NOTARY) as office_b:
        for client in (marie, office_b):
            assert (await client.get(url(dossier))).status_code == 404
            assert (await client.get(url(dossier, qid))).status_code == 404
            assert (await save(client, dossier, qid, {"buyer": "x"})).status_code == 404
            assert (await send(client, dossier)).status_code == 404
    assert (await row(platform, qid)).answers_sealed is None


async def test_another_client_of_the_dossier_sees_only_what_was_sent_to_them(
    server, platform, office_id, notary, jan, marie
):
    dossier = await open_dossier(platform, office_id, [JAN, MARIE])
    qid = (await send(notary, dossier)).json()["id"]
    assert (await marie.get(url(dossier))).json() == []
    assert (await marie.get(url(dossier, qid))).status_code == 404
    assert [q["id"] for q in (await notary.get(url(dossier))).json()] == [qid]


async def test_the_builder_page_sends_to_a_client_chosen_by_name(
    server, platform, office_id, notary, jan, dossier
):
    builder = f"/offices/{office_id}/dossiers/{dossier}/questionnaires"
    page = await notary.get(f"{builder}/new")
    assert page.status_code == 200
    assert "Jan Peeters" in page.text and JAN not in page.text
    choice = re.search(r'<option value="([^"]+)">Jan Peeters</option>', page.text)
    assert choice
    form = {
        "_csrf_token": notary.cookies["csrftoken"],
        "title": "Intake",
        "recipient": choice.group(1),
        "rows": "3",
        "kind_0": "choice",
        "label_0": "Regime",
        "choices_0": "community, separation",
        "required_0": "yes",
        "kind_1": "text",
        "label_1": "",
        "kind_2": "yes_no",
        "label_2": "Mortgage?",
    }
    sent = await notary.post(builder, data=form)
    assert sent.status_code == 303, sent.text
    [questionnaire] = (await jan.get(url(dossier))).json()
    assert questionnaire["questions"] == [
        {
            "id": "q1",
            "kind": "choice",
            "label": "Regime",
            "required": True,
            "choices": ["community", "separation"],
        },
        {"id": "q2", "kind": "yes_no", "label": "Mortgage?", "required": False},
    ]
    assert (await jan.get(f"{builder}/new")).status_code == 403
