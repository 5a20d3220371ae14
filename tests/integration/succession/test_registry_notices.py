"""The population register pushes a death notice through its API client: recorded with no
office, named in the history as the register's software, withdrawable by any notary."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from kluis.audit import HistoryEvent
from succession.models import DeathNotice
from tests.support.login import JAN, csrf
from tests.support.office_software import registry_client, software_client


async def test_the_register_records_a_death_and_a_notary_may_withdraw_it(
    server, platform, jan, notary, office_id
):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    body = {"nrn": JAN, "date_of_death": datetime.now(UTC).date().isoformat(), "reference": "RR-7"}
    async with await registry_client(server, platform) as register:
        recorded = await register.post("/api/v1/death-notices", json=body)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded_by"] == "Rijksregister (registry)"
        again = await register.post("/api/v1/death-notices", json=body)
        assert again.json()["type"] == "death-recorded"
        # The register records deaths; it looks nobody up and opens no estate.
        looked = await register.post(
            "/api/v1/estates/lookup", json={"nrn": JAN, "reason": "curious"}
        )
        assert looked.status_code == 401
    async with server.sessions() as db:
        notice = await db.scalar(select(DeathNotice))
        assert notice.office_id is None
        event = await db.scalar(
            select(HistoryEvent).where(
                HistoryEvent.subject_id == jan_id,
                HistoryEvent.action == "succession:death:recorded",
            )
        )
        assert event.actor_label == "Rijksregister (registry)"
    withdrawn = await notary.post(
        f"/api/v1/death-notices/{recorded.json()['id']}/withdraw",
        json={"reason": "the register erred"},
        headers=csrf(notary),
    )
    assert withdrawn.status_code == 200, withdrawn.text


async def test_an_office_s_software_records_no_death(server, platform, jan, office_id):
    body = {"nrn": JAN, "date_of_death": datetime.now(UTC).date().isoformat(), "reference": "X"}
    async with await software_client(server, platform, office_id) as software:
        refused = await software.post("/api/v1/death-notices", json=body)
        assert refused.status_code == 401
    async with server.sessions() as db:
        assert list(await db.scalars(select(DeathNotice))) == []
