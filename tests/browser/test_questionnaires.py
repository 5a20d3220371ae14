"""Questionnaires in real browsers: the demo notary builds one for Jan; Jan answers half,
leaves, comes back where he stopped, finishes, and finds the result with its PDF."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import run_on_platform
from tests.support import files
from tests.support.login import JAN, NOTARY
from tests.support.offices import register_office
from tests.support.questionnaires import open_dossier


def log_in(page: Page, nrn: str) -> None:
    page.goto(f"/auth/login/itsme?login_hint={nrn}")
    expect(page).to_have_url(re.compile(r"/home$"))


def step(number: int) -> re.Pattern[str]:
    """The step counter ("Question 3 of 4") in whichever language the page speaks."""
    return re.compile(rf"\b{number}\D+4\b")


def test_jan_answers_half_leaves_comes_back_and_finishes(page: Page, new_page, settings, tmp_path):
    office_id = run_on_platform(settings, register_office)
    dossier = run_on_platform(settings, lambda p: open_dossier(p, office_id, [JAN]))
    log_in(page, JAN)  # Jan has logged in once: the builder shows his name
    notary = new_page()
    log_in(notary, NOTARY)

    notary.goto(f"/offices/{office_id}/dossiers/{dossier}/questionnaires/new")
    notary.fill("input[name=title]", "Intake verkoop")
    expect(notary.locator("select[name=recipient] option")).to_have_text(["Jan Peeters"])
    rows = [
        ("text", "Naam van de koper", ""),
        ("number", "Prijs in euro", ""),
        ("file", "Vorige akte", ""),
        ("choice", "Huwelijksstelsel", "gemeenschap, scheiding"),
    ]
    for row, (kind, label, choices) in enumerate(rows):
        notary.select_option(f"select[name=kind_{row}]", kind)
        notary.fill(f"input[name=label_{row}]", label)
        notary.check(f"input[name=required_{row}]")
        if choices:
            notary.fill(f"input[name=choices_{row}]", choices)
    notary.click("#questionnaire-builder button[type=submit]")
    expect(notary).to_have_url(re.compile(rf"/dossiers/{dossier}/questionnaires$"))
    expect(notary.locator("#questionnaires")).to_contain_text("Intake verkoop")

    jan = page
    jan.goto(f"/dossiers/{dossier}/questionnaires")
    jan.click("#questionnaires a")
    expect(jan.locator(".step-count")).to_have_text(step(1))
    jan.fill("#answer", "Jan Peeters")
    jan.click("#save")
    expect(jan.locator(".step-count")).to_have_text(step(2))
    jan.fill("#answer", "325000")
    jan.click("#stop")  # saved, and away
    expect(jan).to_have_url(re.compile(rf"/dossiers/{dossier}/questionnaires$"))
    expect(jan.locator("#questionnaires .status")).to_contain_text(step(3))

    jan.click("form[action='/auth/logout'] button")
    log_in(jan, JAN)
    jan.goto(f"/dossiers/{dossier}/questionnaires")
    jan.click("#questionnaires a")
    expect(jan.locator(".step-count")).to_have_text(step(3))  # where he stopped
    jan.click("#back")
    expect(jan.locator("#answer")).to_have_value("325000")
    jan.click("#save")
    expect(jan.locator(".step-count")).to_have_text(step(3))

    deed = tmp_path / "Vorige akte.pdf"
    deed.write_bytes(files.pdf(b"de vorige akte"))
    jan.set_input_files("#answer", str(deed))
    jan.click("#save")
    expect(jan.locator(".step-count")).to_have_text(step(4))
    jan.check("input[value=scheiding]")
    jan.click("#save")
    expect(jan.locator("#review")).to_contain_text("Vorige akte.pdf")
    jan.click("#finish")

    result = jan.locator("#result")
    for answer in ("Jan Peeters", "325000", "Vorige akte.pdf", "scheiding"):
        expect(result).to_contain_text(answer)
    expect(result.locator("#where")).to_be_visible()  # "… under “Delivered by me”"
    link = jan.locator("#result-pdf")
    href = link.get_attribute("href")
    assert href and href.endswith("/result")
    pdf = jan.request.get(href)
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
