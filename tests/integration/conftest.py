"""What integration tests share: citizens logged in over HTTP, and mail as they see it — a
real SMTP server on loopback and a real worker that takes the platform's queued mail to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.login import JAN, MARIE, NOTARY, STAFF, login
from tests.support.offices import member, register_office
from tests.support.smtp import SmtpServer
from tests.support.tasks import running_worker, sending_to


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_worker(settings, smtp_server) -> Iterator[None]:
    with running_worker(sending_to(settings, smtp_server)):
        yield


@pytest.fixture
def inbox(server, mail_worker, smtp_server) -> SmtpServer:
    smtp_server.clear()
    return smtp_server


@pytest.fixture
async def jan(server, browser_client):
    """Jan Peeters, logged in."""
    await login(browser_client, login_hint=JAN)
    return browser_client


@pytest.fixture
async def marie(server):
    """Marie Dubois, logged in in a browser of her own."""
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await login(client, login_hint=MARIE)
        yield client


@pytest.fixture
async def office_id(server, platform) -> str:
    return await register_office(platform)


@pytest.fixture
async def notary(server, office_id):
    """Sophie Claes, notary of the demo office, logged in."""
    async with member(server, NOTARY) as client:
        yield client


@pytest.fixture
async def staff(server, office_id):
    """Thomas Wouters, staff of the demo office, logged in."""
    async with member(server, STAFF) as client:
        yield client
