"""The portal's pages joined up, over real HTTP: a dossier's page lists its questionnaires
(all of them for the office, with the builder's link; a client's own), the office's pages
lead to each other, and the forms that open a dossier or build a questionnaire show a
refusal on the page with what was typed, writing nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from acts.models import Deed, Dossier, DossierMessage, Questionnaire
from tests.support import files
from tests.support.login import JAN, MARIE, csrf
from tests.support.questionnaires import build, client_row, open_dossier
from vault.models import Document


async def count(server, model) -> int:  # type: ignore[no-untyped-def]
    async with server.sessions() as db:
        return await db.scalar(select(func.count()).select_from(model)) or 0


def form(client, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"_csrf_token": client.cookies["csrftoken"], **fields}


async def test_the_dossier_page_lists_its_questionnaires(
    server, platform, office_id, notary, jan, marie
):
    dossier = await open_dossier(platform, office_id, [JAN, MARIE])
    sent = await notary.post(
        f"/api/v1/dossiers/{dossier}/questionnaires",
        json=build(JAN, title="Intake aankoop"),
        headers=csrf(notary),
    )
    assert sent.status_code == 201, sent.text
    builder = f"/offices/{office_id}/dossiers/{dossier}/questionnaires/new"

    office_page = (await notary.get(f"/dossiers/{dossier}")).text
    assert "Intake aankoop" in office_page and builder in office_page
    assert f"/offices/{office_id}/dossiers" in office_page  # back to the office's list
    jan_page = (await jan.get(f"/dossiers/{dossier}")).text
    assert "Intake aankoop" in jan_page and builder not in jan_page
    assert 'data-status="sent"' in jan_page
    marie_page = await marie.get(f"/dossiers/{dossier}")
    assert marie_page.status_code == 200
    assert "Intake aankoop" not in marie_page.text  # sent to Jan, not to her
    questionnaire = await jan.get(f"/dossiers/{dossier}/questionnaires/{sent.json()['id']}")
    assert f'href="/dossiers/{dossier}"' in questionnaire.text


async def test_the_office_pages_lead_to_each_other(server, office_id, notary, staff):
    for page in ("vault", "dossiers", "deeds", "admin"):
        text = (await notary.get(f"/offices/{office_id}/{page}")).text
        for target in ("vault", "dossiers", "deeds", "admin"):
            assert f'href="/offices/{office_id}/{target}"' in text, (page, target)
    staff_vault = (await staff.get(f"/offices/{office_id}/vault")).text
    assert f'href="/offices/{office_id}/dossiers"' in staff_vault
    assert f'href="/offices/{office_id}/admin"' not in staff_vault  # notaries only
    home = (await staff.get("/home")).text
    assert 'class="nav-office"' in home


async def test_a_refused_dossier_shows_the_form_again(server, office_id, notary):
    refused = await notary.post(
        f"/offices/{office_id}/dossiers",
        data=form(
            notary,
            reference="2026/0099",
            description="Schenking",
            status="open",
            clients="12345678901",
            steps="Ontwerp",
        ),
    )
    assert refused.status_code == 422
    assert 'data-problem-type="nrn-invalid"' in refused.text
    assert 'value="2026/0099"' in refused.text and ">12345678901</textarea>" in refused.text
    assert await count(server, Dossier) == 0


async def test_a_refused_questionnaire_shows_the_builder_again(
    server, platform, office_id, notary, jan
):
    dossier = await open_dossier(platform, office_id, [JAN])
    builder = f"/offices/{office_id}/dossiers/{dossier}/questionnaires"
    refused = await notary.post(
        builder,
        data=form(
            notary,
            title="Intake",
            recipient=await client_row(platform, dossier),
            rows="2",
            kind_0="text",
            label_0="Naam",
            required_0="yes",
            kind_1="choice",
            label_1="Stelsel",  # a choice without choices
        ),
    )
    assert refused.status_code == 422
    assert 'data-problem-type="questionnaire-invalid"' in refused.text
    assert 'value="Intake"' in refused.text and 'value="Stelsel"' in refused.text
    assert await count(server, Questionnaire) == 0
    assert (await jan.post(builder, data=form(jan, title="x"))).status_code == 403


async def test_the_streamed_forms_refuse_a_post_without_the_pages_token(
    server, platform, office_id, notary, jan
):
    """These forms stream their files, so the CSRF middleware leaves them to check the
    token themselves (tests/integration/kluis/test_csrf.py): a forged post carrying the
    member's cookies, with no token or a made-up one, is refused and writes nothing."""
    dossier = await open_dossier(platform, office_id, [JAN])
    forms = {
        f"/dossiers/{dossier}/messages": {"subject": "Vraag", "body": "Een vraag"},
        f"/dossiers/{dossier}/documents": {"tab": "delivered"},
        f"/offices/{office_id}/deeds": {"registry_number": "2024/0300", "kind": "mortgage"},
    }
    before = [await count(server, model) for model in (DossierMessage, Document, Deed)]
    for path, fields in forms.items():
        for token in ({}, {"_csrf_token": "made-up"}):
            posted = await notary.post(
                path,
                data=fields | token,
                files={"file": ("brief.pdf", files.pdf(b"forged"))},
                headers={"accept": "application/json"},
            )
            assert (posted.status_code, posted.json()["type"]) == (403, "csrf-invalid"), path
    assert [await count(server, model) for model in (DossierMessage, Document, Deed)] == before
