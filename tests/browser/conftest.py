"""A real Chromium (Debian's package) driven by Playwright, headless, with no network."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

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


def policy_violations(page: Page) -> list[str]:
    """What the Content-Security-Policy blocks on this page, as Chromium reports it: a
    script or style of the platform's own that the policy stops is a broken page."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked


@pytest.fixture
def page(live_server, settings, browser: Browser) -> Iterator[Page]:
    # The live server first: it migrates with its own event loop, before Playwright runs one.
    reset_state(settings)
    context = browser.new_context(base_url=live_server.url, locale="nl-BE")
    page = context.new_page()
    blocked = policy_violations(page)
    yield page
    context.close()
    assert not blocked, blocked


def run_on_platform(settings, work) -> Any:  # type: ignore[no-untyped-def]
    """Run `await work(platform)` on a platform of its own, in a thread with its own event
    loop (Playwright's sync API owns this thread's loop): seeding what a test needs."""
    from kluis.app import build_platform

    result: list[Any] = []

    async def main() -> None:
        platform = build_platform(settings)
        try:
            result.append(await work(platform))
        finally:
            await platform.aclose()

    worker = threading.Thread(target=lambda: asyncio.run(main()))
    worker.start()
    worker.join()
    return result[0] if result else None


@pytest.fixture
def new_page(live_server, browser: Browser) -> Iterator[Callable[[str], Page]]:
    """More browsers: `new_page(locale)` opens a page in a context of its own."""
    contexts = []
    blocked: list[list[str]] = []

    def open_page(locale: str = "nl-BE") -> Page:
        context = browser.new_context(base_url=live_server.url, locale=locale)
        contexts.append(context)
        page = context.new_page()
        blocked.append(policy_violations(page))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not any(blocked), blocked
