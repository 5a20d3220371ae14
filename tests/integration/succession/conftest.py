from __future__ import annotations

import pytest

from tests.support.login import NOTARY, STAFF
from tests.support.offices import member, register_office


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
