"""The whole vault flow in a real browser: upload, refuse, download, edit, delete."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support import files
from tests.support.login import JAN


def log_in(page: Page) -> None:
    page.goto(f"/auth/login/itsme?login_hint={JAN}")
    expect(page).to_have_url(re.compile(r"/home$"))


def test_citizen_stores_downloads_edits_and_deletes_documents(page: Page, tmp_path):
    log_in(page)
    page.click("text=Mijn documenten")
    expect(page.locator("h1")).to_have_text("Mijn documenten")

    deed = tmp_path / "Eigendomsakte.pdf"
    deed.write_bytes(files.pdf(b"eigendom " * 5000))
    virus = tmp_path / "brief.txt"
    virus.write_bytes(files.EICAR)
    page.wait_for_load_state()  # vault.js, deferred, handles the input: it has run
    page.set_input_files("#file-input", [str(deed), str(virus)])

    refused = page.locator(".upload.refused")
    expect(refused).to_contain_text("brief.txt")
    expect(refused).to_contain_text("malware")
    expect(page.locator(".upload.stored")).to_contain_text("Eigendomsakte.pdf")
    expect(page.locator("#documents .document-name")).to_have_text(
        ["Eigendomsakte.pdf"], timeout=10_000
    )
    expect(page.locator("#usage-label")).to_contain_text("van 8.4 MB")
    page.screenshot(path=str(tmp_path / "vault.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#documents .document-name")
    assert download.value.suggested_filename == "Eigendomsakte.pdf"
    assert open(download.value.path(), "rb").read() == deed.read_bytes()

    page.click("#documents summary")
    page.check("input[name=categories][value=real-estate]")
    page.fill("input[name=labels]", "huis, Leuven")
    page.click("form.edit button[type=submit]")
    expect(page.locator("#documents .badge")).to_have_text(["Vastgoed", "Leuven", "huis"])

    page.select_option("select[name=category]", "health")
    page.click("form.filters button")
    expect(page.locator("#documents tbody")).to_contain_text("Geen documenten gevonden")
    page.select_option("select[name=category]", "real-estate")
    page.click("form.filters button")
    expect(page.locator("#documents .document-name")).to_have_text(["Eigendomsakte.pdf"])

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("form.delete button")
    expect(page.locator("#documents tbody")).to_contain_text("Nog geen documenten")

    page.goto("/history")
    expect(page.locator("tr[data-action='vault:document:deleted']")).to_have_count(1)
    expect(page.locator("tr[data-action='vault:document:refused']")).to_have_count(1)
