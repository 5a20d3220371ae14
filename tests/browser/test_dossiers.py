"""Dossiers in real browsers: the notary opens a dossier for Jan and writes to him; Jan
finds it under "My dossiers" with its unread badge, sees the live character count turn red
above 4,000, gets the server's refusal on the page, and replies with an attachment."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import run_on_platform
from tests.browser.test_sharing import log_in
from tests.support.login import JAN, NOTARY
from tests.support.offices import register_office


def test_a_message_round_trip_with_the_live_counter(page: Page, new_page, settings, tmp_path):
    office_id = run_on_platform(settings, register_office)
    notary, jan = new_page(), page
    log_in(notary, NOTARY)
    log_in(jan, JAN)

    notary.goto(f"/offices/{office_id}/dossiers")
    notary.fill("#open-dossier input[name=reference]", "2026/0042")
    notary.fill("#open-dossier input[name=description]", "Aankoop woning Leuven")
    notary.fill("#open-dossier textarea[name=clients]", JAN)
    notary.fill("#open-dossier textarea[name=steps]", "[x] Titelonderzoek\nOndertekening")
    notary.click("#open-dossier button")
    expect(notary).to_have_url(re.compile(r"/dossiers/[0-9a-f-]+$"))
    expect(notary.locator("#progress")).to_have_text("1 / 2")
    notary.fill("#message-form input[name=subject]", "Ontwerpakte")
    notary.fill("#message-body", "Graag uw opmerkingen.")
    notary.click("#message-form button")
    expect(notary.locator("#messages .message-subject")).to_have_text(["Ontwerpakte"])

    jan.goto("/dossiers")
    row = jan.locator("#dossiers tr[data-dossier]")
    expect(row).to_have_count(1)
    expect(row.locator(".progress")).to_have_text("1 / 2")
    expect(row.locator(".unread [data-tab=messages]")).to_contain_text("1")
    row.locator("a").click()
    expect(jan.locator("#messages .message-subject")).to_have_text(["Ontwerpakte"])

    jan.click("#messages a.reply")
    expect(jan.locator("#replying-to")).to_contain_text("Graag uw opmerkingen.")
    jan.fill("#message-body", "a" * 4001)
    expect(jan.locator("#body-count")).to_have_class(re.compile(r"\bover\b"))
    expect(jan.locator("#body-count")).to_contain_text("4001 / 4000")
    jan.click("#message-form button")
    expect(jan.locator("#message-form [data-problem-type=message-too-long]")).to_be_visible()
    expect(jan.locator("#message-body")).to_have_value("a" * 4001)  # kept, never cut

    jan.fill("#message-body", "Zie bijlage.")
    expect(jan.locator("#body-count")).to_have_text("12 / 4000")
    remarks = tmp_path / "Opmerkingen.txt"
    remarks.write_text("Mijn opmerkingen bij de ontwerpakte.\n")
    jan.set_input_files("#message-form input[name=attachment]", str(remarks))
    jan.click("#message-form button")
    expect(jan.locator("#messages .message-subject")).to_have_text(
        ["Re: Ontwerpakte", "Ontwerpakte"]
    )
    expect(jan.locator("#messages li").first.locator(".quoted")).to_contain_text("Ontwerpakte")
    expect(jan.locator("#messages li").first.locator(".attachments")).to_contain_text(
        "Opmerkingen.txt"
    )

    notary.reload()
    expect(notary.locator(".tabs [data-tab=messages] .unread-count")).to_have_count(0)
    expect(notary.locator("#messages .message-subject")).to_have_text(
        ["Re: Ontwerpakte", "Ontwerpakte"]
    )
