"""After death, in real browsers, as issue 6's "Done when" tells it.

Option 1: Jan keeps transfer through a notary and stores two documents; the demo notary
records his death, looks him up, opens the estate with two heirs and transfers; both heirs
see the inheritance and download a document; the real `kluis succession sweep --as-of`
24 months later leaves nothing of Jan's readable. Options 2 and 3: Jan shares one document
now and one at his death with Marie, the notary records the death, and the sweep ten days
later applies his choice."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect
from sqlalchemy import select

from idp_bridge import Person
from tests.browser.conftest import run_on_platform
from tests.browser.test_sharing import confirm_address, log_in
from tests.support.commands import command_env
from tests.support.login import JAN, MARIE, NOTARY
from tests.support.offices import register_office
from tests.support.world import EMMA
from vault.models import Document
from vault.storage import DESTROYED

JAN_NAME = "Jan Peeters"


def sweep_as_of(settings, when: datetime) -> str:  # type: ignore[no-untyped-def]
    """The real command line, in a process of its own, on the test platform's settings."""
    done = subprocess.run(  # noqa: S603 - our own command, a time we made
        [sys.executable, "-m", "kluis.cli", "succession", "sweep", "--as-of", when.isoformat()],
        env=command_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def names_of_jans_documents(settings) -> list[str]:  # type: ignore[no-untyped-def]
    async def names(platform) -> list[str]:  # type: ignore[no-untyped-def]
        async with platform.session_maker() as db:
            jan = await platform.identity.people.by_nrn(db, JAN)
            query = select(Document.name).where(Document.owner_id == jan.id)
            return sorted(await db.scalars(query))

    return run_on_platform(settings, names)


def fragments(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    """The fragment files at the locations (destruction markers hold no content)."""
    roots = [Path(loc.path) for loc in settings.vault.locations]
    files = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
    return [p for p in files if p.suffix != f".{DESTROYED}"]


def store(page: Page, tmp_path: Path, contents: dict[str, bytes]) -> None:
    page.goto("/vault")
    files = []
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    page.set_input_files("#file-input", files)
    expect(page.locator("#documents .document-name")).to_have_count(len(files), timeout=10_000)


def choose_option(jan: Page, option: int, *, confirm: bool = False) -> None:
    jan.click("#nav-succession")
    jan.check(f"#option-{option}")
    if confirm:
        jan.check("#confirm-irreversible")
    jan.click("#succession-choice button[type=submit]")
    expect(jan.locator("#choice-saved")).to_be_visible()
    expect(jan.locator("#current-option")).to_have_attribute("data-option", str(option))


def record_death(sophie: Page) -> None:
    """From the office's pages, through its Succession tab; the date of death is today."""
    sophie.click("a.nav-office")
    sophie.click("#office-succession-link")
    form = sophie.locator("#record-death")
    form.locator("input[name=nrn]").fill(JAN)
    form.locator("input[name=date_of_death]").fill(datetime.now(UTC).date().isoformat())
    form.locator("input[name=reference]").fill("Overlijdensakte 2026/117")
    form.locator("button[type=submit]").click()
    expect(sophie.locator("#desk-done")).to_contain_text(JAN_NAME)
    assert JAN not in sophie.url


def become_contacts(jan: Page, marie: Page, settings) -> None:  # type: ignore[no-untyped-def]
    confirm_address(settings, "marie.dubois@example.test")
    jan.goto("/contacts")
    jan.fill("input[name=email]", "marie.dubois@example.test")
    jan.click("form[action='/contacts/invite'] button")
    marie.goto("/contacts")
    marie.click("#incoming form[action$='/accept'] button")
    expect(marie.locator("#contacts .contact-name")).to_have_text([JAN_NAME])


def share(jan: Page, name: str, when: str) -> None:
    jan.goto("/vault")
    row = jan.locator("#documents tr", has_text=name)
    row.locator("details.sharing summary").click()
    row.locator(f"details.sharing input[value={when}]").check()
    row.locator("details.sharing form button").click()
    expect(jan.locator("#documents tr", has_text=name).locator(".shares li")).to_have_count(1)


def shared_names(marie: Page) -> list[str]:
    marie.goto("/shared")
    return sorted(marie.locator("#shared .document-name").all_text_contents())


def test_option_1_the_notary_transfers_to_all_heirs_and_24_months_later_nothing_is_left(
    page: Page, new_page, settings, tmp_path
):
    run_on_platform(settings, register_office)
    jan, sophie = page, new_page()
    log_in(jan, JAN)
    log_in(sophie, NOTARY)

    choose_option(jan, 1)
    will = b"%PDF-1.4 mijn testament\n%%EOF\n"
    store(jan, tmp_path, {"Testament.pdf": will, "Foto's.txt": b"de vakantiefoto's\n"})

    # -- the notary: the death, the look-up, the estate, its heirs, the transfer -------------
    record_death(sophie)
    lookup = sophie.locator("#lookup")
    lookup.locator("input[name=nrn]").fill(JAN)
    lookup.locator("input[name=reason]").fill("Nalatenschap Peeters 2026/17")
    lookup.locator("button[type=submit]").click()
    result = sophie.locator("#lookup-result")
    expect(result).to_have_attribute("data-status", "awaiting-notary")
    expect(result.locator(".name")).to_have_text(JAN_NAME)
    expect(result.locator(".withdrawable-until")).not_to_be_empty()
    expect(sophie).to_have_url(re.compile(r"/succession/lookup$"))  # the number: in the body
    expect(sophie.locator("#open-estate input[name=reason]")).to_have_value(
        "Nalatenschap Peeters 2026/17"
    )
    sophie.click("#open-estate button[type=submit]")
    expect(sophie).to_have_url(re.compile(r"/estates/[0-9a-f-]+$"))
    expect(sophie.locator("#estate")).to_have_attribute("data-status", "estate-opened")
    sophie.fill("#set-heirs textarea[name=heirs]", f"{MARIE}\n{EMMA}")
    sophie.click("#set-heirs button[type=submit]")
    expect(sophie.locator("#heirs .heir")).to_have_count(2)
    sophie.check("#transfer input[name=confirm]")
    sophie.click("#transfer button[type=submit]")
    expect(sophie.locator("#transferred")).to_be_visible()
    expect(sophie.locator("#estate")).to_have_attribute("data-status", "transferred")
    sophie.click("#desk-link")
    expect(sophie.locator("#estates tr[data-estate]")).to_have_attribute(
        "data-status", "transferred"
    )

    # -- both heirs: the inheritance, and a download ------------------------------------------
    heirs = {MARIE: new_page("fr-BE"), EMMA: new_page()}  # Emma's first login is now
    for number, heir in heirs.items():
        log_in(heir, number)
        heir.click("#nav-inheritances")
        inheritance = heir.locator(".inheritance")
        expect(inheritance).to_have_count(1)
        expect(inheritance.locator(".inheritance-from")).to_contain_text(JAN_NAME)
        expect(inheritance.locator(".office")).to_have_text("Notaris Claes")
        expect(inheritance.locator(".document-name")).to_have_count(2)
        with heir.expect_download() as download:
            inheritance.locator(".document-name", has_text="Testament.pdf").click()
        assert Path(download.value.path()).read_bytes() == will

    # -- 24 months and a day later: nothing of Jan's is left ----------------------------------
    when = datetime.now(UTC) + relativedelta(months=24) + timedelta(days=1)
    assert "erase: 1" in sweep_as_of(settings, when)
    for heir in heirs.values():
        heir.reload()
        expect(heir.locator(".inheritance")).to_have_count(0)
        expect(heir.locator("#no-inheritances")).to_be_visible()
    assert names_of_jans_documents(settings) == []
    assert fragments(settings) == []  # nobody else stored anything


def test_option_2_what_jan_shared_stays_and_the_rest_is_destroyed_after_ten_days(
    page: Page, new_page, settings, tmp_path
):
    run_on_platform(settings, register_office)
    jan, marie, sophie = page, new_page("fr-BE"), new_page()
    for browser, number in ((jan, JAN), (marie, MARIE), (sophie, NOTARY)):
        log_in(browser, number)
    choose_option(jan, 2)
    become_contacts(jan, marie, settings)
    store(jan, tmp_path, {n: n.encode() for n in ("Nu.txt", "Bij-overlijden.txt", "Mijn.txt")})
    share(jan, "Nu.txt", "now")
    share(jan, "Bij-overlijden.txt", "at_death")
    assert shared_names(marie) == ["Nu.txt"]

    record_death(sophie)
    sweep_as_of(settings, datetime.now(UTC) + timedelta(days=10, hours=1))

    assert shared_names(marie) == ["Bij-overlijden.txt", "Nu.txt"]
    with marie.expect_download() as download:
        marie.locator("#shared .document-name", has_text="Bij-overlijden.txt").click()
    assert Path(download.value.path()).read_bytes() == b"Bij-overlijden.txt"
    assert names_of_jans_documents(settings) == ["Bij-overlijden.txt", "Nu.txt"]


def test_option_3_everything_not_shared_during_life_is_destroyed_after_ten_days(
    page: Page, new_page, settings, tmp_path
):
    run_on_platform(settings, register_office)
    jan, marie, sophie = page, new_page("fr-BE"), new_page()
    for browser, number in ((jan, JAN), (marie, MARIE), (sophie, NOTARY)):
        log_in(browser, number)

    # Without the confirmation, the choice is refused and stays as it was.
    jan.click("#nav-succession")
    jan.check("#option-3")
    jan.click("#succession-choice button[type=submit]")
    expect(jan.locator("#choice-error")).to_have_attribute(
        "data-problem-type", "confirmation-required"
    )
    expect(jan.locator("#current-option")).to_have_attribute("data-option", "1")
    choose_option(jan, 3, confirm=True)

    become_contacts(jan, marie, settings)
    store(jan, tmp_path, {n: n.encode() for n in ("Nu.txt", "Bij-overlijden.txt", "Mijn.txt")})
    share(jan, "Nu.txt", "now")
    share(jan, "Bij-overlijden.txt", "at_death")

    record_death(sophie)
    sweep_as_of(settings, datetime.now(UTC) + timedelta(days=10, hours=1))

    assert shared_names(marie) == ["Nu.txt"]
    assert names_of_jans_documents(settings) == ["Nu.txt"]

    async def jans_vault_is_frozen(platform) -> bool:  # type: ignore[no-untyped-def]
        async with platform.session_maker() as db:
            jan_person = await db.scalar(select(Person).where(Person.given_name == "Jan"))
            return jan_person.deceased_on is not None

    assert run_on_platform(settings, jans_vault_is_frozen)
