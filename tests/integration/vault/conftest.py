from __future__ import annotations

import pytest

from tests.support.login import JAN, login


@pytest.fixture
async def jan(server, browser_client):
    """Jan Peeters, logged in."""
    await login(browser_client, login_hint=JAN)
    return browser_client
