"""Sharing in real browsers: two citizens become contacts, share, see, copy and revoke a
document; a citizen and the demo notary office exchange documents both ways, sealed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import update

from idp_bridge import Person
from tests.browser.conftest import run_on_platform
from tests.support.login import JAN, MARIE, NOTARY
from tests.support.offices import register_office


def log_in(page: Page, nrn: str) -> None:
    page.goto(f"/auth/login/itsme?login_hint={nrn}")
    expect(page).to_have_url(re.compile(r"/home$"))


def confirm_address(settings, email: str) -> None:
    async def confirm(platform) -> None:  # type: ignore[no-untyped-def]
        async with platform.session_maker() as db:
            await db.execute(
                update(Person).where(Person.email == email).values(email_verified=True)
            )
            await db.commit()

    run_on_platform(settings, confirm)


def test_two_citizens_share_copy_and_revoke(page: Page, new_page, settings, tmp_path):
    jan, marie = page, new_page("fr-BE")
    log_in(jan, JAN)
    log_in(marie, MARIE)
    confirm_address(settings, "marie.dubois@example.test")

    jan.goto("/contacts")
    jan.fill("input[name=email]", "marie.dubois@example.test")
    jan.click("form[action='/contacts/invite'] button")
    marie.goto("/contacts")
    expect(marie.locator("#incoming")).to_contain_text("Jan Peeters")
    marie.click("#incoming form[action$='/accept'] button")
    expect(marie.locator("#contacts .contact-name")).to_have_text(["Jan Peeters"])
    jan.goto("/contacts")
    expect(jan.locator("#contacts .contact-name")).to_have_text(["Marie Dubois"])

    letter = tmp_path / "Brief.txt"
    letter.write_text("Voor Marie, met liefde.\n" * 50)
    jan.goto("/vault")
    jan.set_input_files("#file-input", str(letter))
    expect(jan.locator("#documents .document-name")).to_have_text(["Brief.txt"], timeout=10_000)
    jan.click("details.sharing summary")
    jan.check("details.sharing input[value=now]")
    jan.click("details.sharing form button")
    expect(jan.locator("details.sharing .shares")).to_contain_text("Marie Dubois")

    marie.goto("/shared")
    expect(marie.locator("#shared .document-name")).to_have_text(["Brief.txt"])
    with marie.expect_download() as download:
        marie.click("#shared .document-name")
    assert open(download.value.path(), "rb").read() == letter.read_bytes()
    marie.click("#shared form button")
    expect(marie).to_have_url(re.compile(r"/vault/?$"))
    expect(marie.locator("#documents .document-name")).to_have_text(["Brief.txt"])
    expect(marie.locator("#documents .badge.origin")).to_contain_text("Jan Peeters")

    jan.click("details.sharing summary")
    jan.click("details.sharing .shares button")
    marie.goto("/shared")
    expect(marie.locator("#shared .document-name")).to_have_count(0)
    # Her copy is hers: it stays.
    marie.goto("/vault")
    expect(marie.locator("#documents .document-name")).to_have_text(["Brief.txt"])


def test_citizen_and_office_exchange_sealed_documents(page: Page, new_page, settings, tmp_path):
    run_on_platform(settings, register_office)
    jan, sophie = page, new_page()
    log_in(jan, JAN)
    log_in(sophie, NOTARY)

    question = tmp_path / "Vraag.txt"
    question.write_text("Kan de akte volgende week?\n")
    jan.goto("/vault")
    jan.set_input_files("#file-input", str(question))
    expect(jan.locator("#documents .document-name")).to_have_text(["Vraag.txt"], timeout=10_000)
    jan.click("#documents a.send-to-office")
    jan.check("input[name=office_id]")
    jan.check("input[name=confidential]")
    jan.click("form.edit button[type=submit]")
    expect(jan).to_have_url(re.compile(r"/vault/?$"))

    sophie.click("a.office-vault")
    expect(sophie.locator("#office-documents .document-name")).to_have_text(["Vraag.txt"])
    deed = tmp_path / "Ontwerp-akte.txt"
    deed.write_text("Ontwerp van akte.\n")
    # The upload is vault.js's, a deferred script: after a click, wait until it has run.
    sophie.wait_for_load_state()
    sophie.set_input_files("#file-input", str(deed))
    row = sophie.locator("#office-documents tr", has_text="Ontwerp-akte.txt")
    expect(row).to_have_count(1, timeout=10_000)
    row.locator("summary").click()
    row.locator("input[name=nrn]").fill(JAN)
    row.locator("form button").click()

    jan.goto("/from-offices")
    expect(jan.locator("#offers .document-name")).to_have_text(["Ontwerp-akte.txt"])
    expect(jan.locator("#offers .seal")).to_have_class(re.compile(r"\bok\b"))
    jan.click("#offers form[action$='/accept'] button")
    expect(jan).to_have_url(re.compile(r"/vault/?$"))
    sealed = jan.locator("#documents tr", has_text="Ontwerp-akte.txt")
    expect(sealed.locator(".seal")).to_have_class(re.compile(r"\bok\b"))
    expect(sealed.locator(".seal")).to_contain_text("Notaris Claes")
