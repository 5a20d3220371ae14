"""The deed registry in real browsers: the demo notary publishes a deed for two test
citizens through the web form, and both find it under "My deeds", seal verified."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import run_on_platform
from tests.browser.test_sharing import log_in
from tests.support import files
from tests.support.login import JAN, MARIE, NOTARY
from tests.support.offices import register_office


def test_the_notary_publishes_a_deed_both_parties_see(page: Page, new_page, settings, tmp_path):
    run_on_platform(settings, register_office)
    sophie, jan, marie = page, new_page(), new_page("fr-BE")
    for browser, nrn in ((sophie, NOTARY), (jan, JAN), (marie, MARIE)):
        log_in(browser, nrn)
    pdf = tmp_path / "akte.pdf"
    pdf.write_bytes(files.pdf(b"Akte van verkoop"))

    sophie.click("a.office-vault")
    sophie.click("#office-deeds-link")
    form = sophie.locator("#publish-deed")
    form.locator("input[name=registry_number]").fill("2024/0117")
    form.locator("select[name=kind]").select_option("sale")
    form.locator("input[name=date]").fill("2024-03-15")
    form.locator("textarea[name=parties]").fill(f"{JAN}\n{MARIE}")
    form.locator("input[name=file]").set_input_files(str(pdf))
    form.locator("button[type=submit]").click()

    expect(sophie).to_have_url(re.compile(r"/deeds\?published="))
    expect(sophie.locator("#deed-published")).to_contain_text("2024/0117")
    expect(sophie.locator("#office-deeds .registry-number")).to_have_text(["2024/0117"])
    for citizen in (jan, marie):
        citizen.click("a[href='/deeds']")
        expect(citizen.locator("#deeds .registry-number")).to_have_text(["2024/0117"])
        expect(citizen.locator("#deeds .seal")).to_have_class(re.compile(r"\bok\b"))
        with citizen.expect_download() as download:
            citizen.click("#deeds a.deed-pdf")
        assert open(download.value.path(), "rb").read() == pdf.read_bytes()
        citizen.click("#deeds a.deed-kind")
        expect(citizen.locator("#deed .sha256")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
