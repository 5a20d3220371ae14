"""The notary client portal end to end, in real browsers, as issue 5's "Done when" tells it:
the demo notary publishes a deed for Jan and Marie through the web form and both see it;
she opens a dossier for Jan from her office's pages, posts a document, writes to him and
sends him a questionnaire from the builder. Jan finds the dossier with its unread badges,
replies with an attachment (the live counter running), answers half the questionnaire,
logs out, comes back, finishes it and finds its PDF under "Delivered by me"; the notary
sees his reply and the questionnaire finished. Every step follows the pages' own links."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import run_on_platform
from tests.browser.test_sharing import log_in
from tests.support import files
from tests.support.login import JAN, MARIE, NOTARY
from tests.support.offices import register_office

QUESTIONS = [
    ("text", "Naam van de koper", ""),
    ("number", "Prijs in euro", ""),
    ("yes_no", "Eerste woning?", ""),
    ("choice", "Huwelijksstelsel", "gemeenschap, scheiding"),
]


def step(number: int) -> re.Pattern[str]:
    """The step counter ("Question 3 of 4") in whichever language the page speaks."""
    return re.compile(rf"\b{number}\D+{len(QUESTIONS)}\b")


def publish_deed(sophie: Page, pdf: str) -> None:
    sophie.click("a.nav-office")
    sophie.click("#office-deeds-link")
    form = sophie.locator("#publish-deed")
    form.locator("input[name=registry_number]").fill("2025/0311")
    form.locator("select[name=kind]").select_option("sale")
    form.locator("input[name=date]").fill("2025-02-14")
    form.locator("textarea[name=parties]").fill(f"{JAN}\n{MARIE}")
    form.locator("input[name=file]").set_input_files(pdf)
    form.locator("button[type=submit]").click()
    expect(sophie.locator("#deed-published")).to_contain_text("2025/0311")


def open_dossier_for_jan(sophie: Page, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """From the deeds page through the office's navigation; the dossier's page address."""
    sophie.click("#office-dossiers-link")
    form = sophie.locator("#open-dossier")
    form.locator("input[name=reference]").fill("2025/0077")
    form.locator("input[name=description]").fill("Aankoop appartement Gent")
    form.locator("textarea[name=clients]").fill(JAN)
    form.locator("textarea[name=steps]").fill("[x] Compromis\nLening\nAkte")
    form.locator("button[type=submit]").click()
    expect(sophie).to_have_url(re.compile(r"/dossiers/[0-9a-f-]+$"))
    expect(sophie.locator("#progress")).to_have_text("1 / 3")
    dossier_url = sophie.url

    draft = tmp_path / "Ontwerpakte.pdf"
    draft.write_bytes(files.pdf(b"Ontwerp van akte"))
    sophie.click(".tabs a[data-tab=documents]")
    sophie.set_input_files("#add-document input[name=file]", str(draft))
    sophie.click("#add-document button")
    expect(sophie.locator("#dossier-documents .document-name")).to_have_text(
        ["Ontwerpakte.pdf"], timeout=10_000
    )

    sophie.click(".tabs a[data-tab=messages]")
    sophie.fill("#message-form input[name=subject]", "Ontwerpakte")
    sophie.fill("#message-body", "Graag uw opmerkingen bij de ontwerpakte.")
    sophie.click("#message-form button")
    expect(sophie.locator("#messages .message-subject")).to_have_text(["Ontwerpakte"])
    return dossier_url


def send_questionnaire(sophie: Page) -> None:
    sophie.click("#new-questionnaire")
    builder = sophie.locator("#questionnaire-builder")
    builder.locator("input[name=title]").fill("Intake aankoop")
    expect(builder.locator("select[name=recipient] option")).to_have_text(["Jan Peeters"])
    for row, (kind, label, choices) in enumerate(QUESTIONS):
        builder.locator(f"select[name=kind_{row}]").select_option(kind)
        builder.locator(f"input[name=label_{row}]").fill(label)
        builder.locator(f"input[name=required_{row}]").check()
        if choices:
            builder.locator(f"input[name=choices_{row}]").fill(choices)
    builder.locator("button[type=submit]").click()
    expect(sophie.locator("#questionnaires .questionnaire-title")).to_have_text(["Intake aankoop"])
    sophie.click("#dossier-link")  # back to the dossier, which lists it too
    row = sophie.locator("#dossier-questionnaires tr[data-questionnaire]")
    expect(row).to_have_attribute("data-status", "sent")


def test_the_notary_client_portal_end_to_end(page: Page, new_page, settings, tmp_path):
    run_on_platform(settings, register_office)
    sophie, jan, marie = page, new_page(), new_page("fr-BE")
    for browser, nrn in ((sophie, NOTARY), (jan, JAN), (marie, MARIE)):
        log_in(browser, nrn)

    # -- the deed, seen by both parties -------------------------------------------------
    deed = tmp_path / "akte.pdf"
    deed.write_bytes(files.pdf(b"Akte van verkoop"))
    publish_deed(sophie, str(deed))
    for citizen in (jan, marie):
        citizen.click("nav a[href='/deeds']")
        expect(citizen.locator("#deeds .registry-number")).to_have_text(["2025/0311"])
        expect(citizen.locator("#deeds .seal")).to_have_class(re.compile(r"\bok\b"))

    # -- the office opens a dossier and fills it ------------------------------------------
    dossier_url = open_dossier_for_jan(sophie, tmp_path)
    send_questionnaire(sophie)

    # -- Jan: unread badges, a reply with an attachment -----------------------------------
    jan.click("nav a[href='/dossiers']")
    row = jan.locator("#dossiers tr[data-dossier]")
    expect(row).to_have_count(1)
    expect(row.locator(".unread [data-tab=documents]")).to_contain_text("1")
    expect(row.locator(".unread [data-tab=messages]")).to_contain_text("1")
    row.locator("a").click()
    expect(jan).to_have_url(dossier_url)
    expect(jan.locator(".tabs [data-tab=documents] .unread-count")).to_have_text("1")
    expect(jan.locator("#messages .message-subject")).to_have_text(["Ontwerpakte"])

    jan.click("#messages a.reply")
    expect(jan.locator("#replying-to")).to_contain_text("Graag uw opmerkingen")
    jan.fill("#message-body", "Zie bijlage.")
    counter = jan.locator("#body-count")
    expect(counter).to_be_visible()
    expect(counter).to_have_text("12 / 4000")
    remarks = tmp_path / "Opmerkingen.txt"
    remarks.write_text("Mijn opmerkingen bij de ontwerpakte.\n")
    jan.set_input_files("#message-form input[name=attachment]", str(remarks))
    jan.click("#message-form button")
    expect(jan.locator("#messages .message-subject")).to_have_text(
        ["Re: Ontwerpakte", "Ontwerpakte"]
    )
    expect(jan.locator("#messages li").first.locator(".attachments")).to_contain_text(
        "Opmerkingen.txt"
    )

    # -- Jan answers half the questionnaire, and stops --------------------------------------
    questionnaire = jan.locator("#dossier-questionnaires tr[data-questionnaire]")
    expect(questionnaire).to_have_attribute("data-status", "sent")
    questionnaire.locator("a.questionnaire-action").click()
    expect(jan.locator(".step-count")).to_have_text(step(1))
    jan.fill("#answer", "Jan Peeters")
    jan.click("#save")
    expect(jan.locator(".step-count")).to_have_text(step(2))
    jan.fill("#answer", "289000")
    jan.click("#stop")
    expect(jan.locator("#questionnaires .status")).to_contain_text(step(3))

    # -- logs out, comes back, resumes where he stopped, finishes --------------------------
    jan.click("form[action='/auth/logout'] button")
    expect(jan.locator("form[action='/auth/logout']")).to_have_count(0)
    log_in(jan, JAN)
    jan.click("nav a[href='/dossiers']")
    jan.locator("#dossiers tr[data-dossier] a").click()
    questionnaire = jan.locator("#dossier-questionnaires tr[data-questionnaire]")
    expect(questionnaire).to_have_attribute("data-status", "in_progress")
    questionnaire.locator("a.questionnaire-action").click()
    expect(jan.locator(".step-count")).to_have_text(step(3))
    jan.check("input[name=answer][value=yes]")
    jan.click("#save")
    expect(jan.locator(".step-count")).to_have_text(step(4))
    jan.check("input[name=answer][value=scheiding]")
    jan.click("#save")
    expect(jan.locator("#review")).to_contain_text("289000")
    jan.click("#finish")
    result = jan.locator("#result")
    for answer in ("Jan Peeters", "289000", "scheiding"):
        expect(result).to_contain_text(answer)

    # -- the PDF, under "Delivered by me" ---------------------------------------------------
    jan.click("#where a")
    expect(jan.locator(".tabs a[data-tab=delivered]")).to_have_attribute("aria-current", "page")
    delivered = jan.locator("#dossier-documents .document-name")
    expect(delivered).to_have_text(["Intake aankoop.pdf"])
    pdf = jan.request.get(delivered.get_attribute("href") or "")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # -- the notary sees the reply and the questionnaire finished ---------------------------
    sophie.goto(dossier_url)
    expect(sophie.locator("#messages .message-subject")).to_have_text(
        ["Re: Ontwerpakte", "Ontwerpakte"]
    )
    expect(sophie.locator("#messages li").first.locator(".attachments")).to_contain_text(
        "Opmerkingen.txt"
    )
    finished = sophie.locator("#dossier-questionnaires tr[data-questionnaire]")
    expect(finished).to_have_attribute("data-status", "finished")
    sophie.click(".tabs a[data-tab=delivered]")
    expect(sophie.locator("#dossier-documents .document-name")).to_have_text(["Intake aankoop.pdf"])
