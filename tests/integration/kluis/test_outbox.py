"""The development outbox: with test (and development) settings mail is kept, not sent, and
the developer reads it at /dev/outbox and /dev/outbox.json."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import msgspec
import pytest

from kluis.app import create_app
from kluis.mail import outbox_path
from tests.support.login import JAN, csrf, login
from tests.support.tasks import running_worker


@pytest.fixture(scope="module")
def outbox_worker(settings) -> Iterator[None]:
    assert settings.mail.mailer == "outbox"
    with running_worker(settings):  # the test settings' own mailer: the outbox
        yield


@pytest.fixture
def outbox(server, outbox_worker, settings):
    outbox_path(settings).unlink(missing_ok=True)
    return outbox_path(settings)


async def sent(client: httpx.AsyncClient, count: int) -> list[dict[str, str]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        emails = (await client.get("/dev/outbox.json")).json()
        if len(emails) >= count:
            return emails
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} e-mails in the outbox")


async def test_outbox_lists_the_mail_sent_newest_first(outbox, browser_client):
    assert (await browser_client.get("/dev/outbox.json")).json() == []
    await login(browser_client, login_hint=JAN)
    for address in ["jan.een@example.test", "jan.twee@example.test"]:
        await browser_client.post(
            "/api/v1/me/email", json={"email": address}, headers=csrf(browser_client)
        )

    emails = await sent(browser_client, 2)

    assert [set(e) for e in emails] == [{"to", "subject", "body", "sent_at"}] * 2
    assert [e["to"] for e in emails] == ["jan.twee@example.test", "jan.een@example.test"]
    assert emails[0]["sent_at"] >= emails[1]["sent_at"]
    assert "/auth/email/confirm?token=" in emails[0]["body"]


async def test_outbox_page_shows_the_mail_with_its_link(outbox, browser_client):
    await login(browser_client, login_hint=JAN)
    await browser_client.post(
        "/api/v1/me/email", json={"email": "jan.pagina@example.test"}, headers=csrf(browser_client)
    )
    await sent(browser_client, 1)

    page = await browser_client.get("/dev/outbox")

    assert page.status_code == 200
    assert "jan.pagina@example.test" in page.text
    assert '<a href="http://127.0.0.1' in page.text  # the confirmation link, clickable


def route_paths(settings) -> set[str]:
    return {route.path for route in create_app(settings).routes}


def test_outbox_routes_exist_only_with_the_outbox_mailer(settings):
    smtp = msgspec.structs.replace(
        settings,
        mail=msgspec.structs.replace(settings.mail, mailer="smtp", smtp_host="127.0.0.1"),
    )
    assert {"/dev/outbox", "/dev/outbox.json"} <= route_paths(settings)
    assert not {"/dev/outbox", "/dev/outbox.json"} & route_paths(smtp)
