from __future__ import annotations

import httpx
import pytest

from tests.support.login import JAN, MARIE, login


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
