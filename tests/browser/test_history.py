"""The history page in a real browser: filter by kind and days, see the chain's verdict."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import nrn_index
from idp_bridge.models import Person
from kluis import audit
from kluis.audit import Actor, HistoryEvent
from tests.support.history import recorded_at, run_in_session
from tests.support.login import JAN

# Backdated events (UTC). The deed is stored at 00:15 on 1 March in Brussels.
PAST = [
    (datetime(2025, 1, 20, 9, 0, tzinfo=UTC), "vault:document:uploaded", "Huurcontract.pdf"),
    (datetime(2025, 2, 28, 23, 15, tzinfo=UTC), "vault:document:uploaded", "Eigendomsakte.pdf"),
    (datetime(2025, 3, 2, 10, 0, tzinfo=UTC), "vault:document:downloaded", "Eigendomsakte.pdf"),
    (datetime(2025, 3, 3, 10, 0, tzinfo=UTC), "idp:session:ended", None),
]


def in_database(settings, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run `work` on a session of its own engine and event loop, in a thread of its own
    (Playwright's sync API keeps a loop running in this one)."""

    worker = threading.Thread(target=lambda: asyncio.run(run_in_session(settings, work)))
    worker.start()
    worker.join()


def seed_past(settings, platform) -> None:
    async def work(db: AsyncSession) -> None:
        person = await db.scalar(
            select(Person).where(Person.nrn_index == nrn_index(platform.keys, JAN))
        )
        actor = Actor(label=person.full_name, id=person.id, ip="192.0.2.7")
        for moment, action, target in PAST:
            with recorded_at(moment):
                await audit.record(
                    db, subject_id=person.id, action=action, actor=actor, target=target
                )

    in_database(settings, work)


def tamper(settings) -> None:
    async def work(db: AsyncSession) -> None:
        await db.execute(
            update(HistoryEvent)
            .where(HistoryEvent.target == "Huurcontract.pdf")
            .values(ip="203.0.113.66")
        )

    in_database(settings, work)


def test_citizen_filters_the_history_and_sees_whether_it_verifies(
    page: Page, settings, platform, tmp_path
):
    page.goto(f"/auth/login/itsme?login_hint={JAN}")
    expect(page).to_have_url(re.compile(r"/home$"))
    seed_past(settings, platform)

    page.click("text=Historiek")
    expect(page.locator("#chain-status")).to_have_attribute("data-chain", "intact")
    expect(page.locator("#history tbody tr")).to_have_count(5)

    page.select_option("select[name=kind]", "documents")
    page.fill("input[name=from]", "2025-03-01")
    page.fill("input[name=to]", "2025-03-31")
    page.click("#history-filters button[type=submit]")

    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator("td.target")).to_have_text(["Eigendomsakte.pdf", "Eigendomsakte.pdf"])
    expect(rows.nth(1)).to_contain_text("2025-03-01 00:15:00")  # Belgian time
    expect(page.locator("select[name=kind]")).to_have_value("documents")
    expect(page.locator("input[name=from]")).to_have_value("2025-03-01")
    expect(page.locator("input[name=to]")).to_have_value("2025-03-31")
    page.screenshot(path=str(tmp_path / "history-filtered.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-csv")
    assert re.fullmatch(r"kluis-history-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    exported = open(download.value.path(), encoding="utf-8-sig").read()
    assert exported.count("Eigendomsakte.pdf") == 2 and "Huurcontract" not in exported

    tamper(settings)
    page.reload()
    expect(page.locator("#chain-status")).to_have_attribute("data-chain", "broken")
    expect(page.locator("#chain-status")).to_be_visible()
    page.screenshot(path=str(tmp_path / "history-tampered.png"), full_page=True)
