"""A real Chromium (Debian's package) driven by Playwright, headless, with no network."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import reset_state

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Module scope: Playwright's sync API keeps an event loop running in this thread while it
# lives, which the async tests after the browser tests must not find.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(live_server, settings, browser: Browser) -> Iterator[Page]:
    # The live server first: it migrates with its own event loop, before Playwright runs one.
    reset_state(settings)
    context = browser.new_context(base_url=live_server.url, locale="nl-BE")
    page = context.new_page()
    yield page
    context.close()
