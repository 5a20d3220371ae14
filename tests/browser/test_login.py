"""A person logs in with itsme (development provider) in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_citizen_logs_in_with_itsme_and_switches_language(page: Page, tmp_path):
    page.goto("/")
    expect(page.locator(".dev-notice")).to_be_visible()
    page.click("a[data-provider=itsme]")

    expect(page).to_have_url(re.compile(r"/dev-idp/authorize"))
    page.click("button[data-citizen='Jan Peeters']")

    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator("#full-name")).to_have_text("Jan Peeters")
    expect(page.locator("#nrn-masked")).to_have_text("85.07.30-xxx.xx")
    expect(page.locator("h1")).to_have_text("Welkom, Jan")
    page.screenshot(path=str(tmp_path / "home-nl.png"))

    page.click(".language-switch button[value=fr]")
    expect(page.locator("h1")).to_have_text("Bienvenue, Jan")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.click(".language-switch button[value=en]")
    expect(page.locator("h1")).to_have_text("Welcome, Jan")

    page.click("text=Log out")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("a[data-provider=itsme]")).to_be_visible()


def test_refused_login_shows_a_clear_page(page: Page):
    page.goto("/auth/login/itsme?login_hint=85073003327")

    expect(page.locator("[data-problem-type=nrn-invalid]")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("rijksregisternummer")
