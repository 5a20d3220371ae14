"""Options 2 and 3 in time: nothing before day 10, their rule on day 10, nothing readable
after month 24 — and destroyed content cannot be read back from storage or database."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import select

from kluis.audit import HistoryEvent
from tests.support.contacts import become_contacts
from tests.support.login import JAN
from tests.support.succession import choose, record_death, share, sweep
from tests.support.vault import fragments, upload
from vault.models import Document, Tombstone


async def owned(server, owner_id: str) -> list[str]:
    async with server.sessions() as db:
        return sorted(await db.scalars(select(Document.name).where(Document.owner_id == owner_id)))


async def shared_with(client) -> list[str]:
    return sorted(s["name"] for s in (await client.get("/api/v1/shared-with-me")).json())


async def setup_vault(server, jan, marie) -> dict[str, str]:
    """Jan keeps three documents: one shared with Marie now, one at his death, one not."""
    contact, _theirs = await become_contacts(server, jan, marie)
    ids = {}
    for name in ("now.txt", "at-death.txt", "mine.txt"):
        ids[name] = (await upload(jan, name, f"content of {name}".encode())).json()["id"]
    assert (await share(jan, ids["now.txt"], contact)).status_code == 201
    assert (await share(jan, ids["at-death.txt"], contact, "at_death")).status_code == 201
    return ids


async def test_option_2_releases_at_death_shares_and_destroys_the_rest_on_day_10(
    server, platform, jan, marie, notary
):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    assert (await choose(jan, 2)).json() == {"option": 2}
    await setup_vault(server, jan, marie)
    assert await shared_with(marie) == ["now.txt"]
    assert (await record_death(notary, JAN)).status_code == 201

    report = await sweep(platform, days=9)
    assert report.done == {}
    assert await owned(server, jan_id) == ["at-death.txt", "mine.txt", "now.txt"]
    assert await shared_with(marie) == ["now.txt"]

    report = await sweep(platform, days=10)
    assert report.done == {"safeguard": 1}
    assert await owned(server, jan_id) == ["at-death.txt", "now.txt"]
    assert await shared_with(marie) == ["at-death.txt", "now.txt"]
    notifications = (await marie.get("/api/v1/notifications")).json()
    # In Marie's language (French): Jan died and left her documents.
    assert any(
        n["kind"] == "share" and "Jan Peeters" in n["text"] and "laissé" in n["text"]
        for n in notifications
    )

    await sweep(platform, months=23)
    assert await shared_with(marie) == ["at-death.txt", "now.txt"]
    report = await sweep(platform, months=24)
    assert report.done == {"erase": 1}
    assert await owned(server, jan_id) == []
    assert await shared_with(marie) == []


async def test_option_3_destroys_all_not_shared_during_life_on_day_10(
    server, platform, jan, marie, notary
):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    refused = await choose(jan, 3)
    assert refused.status_code == 422
    assert refused.json()["type"] == "confirmation-required"
    assert (await choose(jan, 3, confirm_irreversible=True)).json() == {"option": 3}
    await setup_vault(server, jan, marie)
    assert (await record_death(notary, JAN)).status_code == 201

    assert (await sweep(platform, days=9)).done == {}
    assert await owned(server, jan_id) == ["at-death.txt", "mine.txt", "now.txt"]

    report = await sweep(platform, days=10)
    assert report.destroyed == 2
    assert await owned(server, jan_id) == ["now.txt"]
    assert await shared_with(marie) == ["now.txt"]
    async with server.sessions() as db:
        history = list(
            await db.scalars(select(HistoryEvent.action).where(HistoryEvent.subject_id == jan_id))
        )
    assert history.count("vault:document:destroyed") == 2
    assert "succession:option:changed" in history

    await sweep(platform, months=24)
    assert await owned(server, jan_id) == []
    assert await shared_with(marie) == []


def file_holds(path: Path, needle: bytes) -> bool:
    """Whether a database file holds `needle`, read by a child process. Opening and closing
    the file here would drop every SQLite lock this process's connections hold on it (POSIX
    locks belong to the process and go with any descriptor's close): a later process would
    then take itself for the last connection and delete the live server's write-ahead log."""
    code = "import sys, pathlib; p = pathlib.Path(sys.argv[1]); "
    code += "print(p.exists() and bytes.fromhex(sys.argv[2]) in p.read_bytes())"
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, str(path), needle.hex()],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() == "True"


async def test_destroyed_content_cannot_be_read_back(server, platform, settings, jan, notary):
    """The wrapped data key is gone from the database (and from its file), the fragments from
    every location; fragments kept elsewhere (a backup) cannot be decrypted without it."""
    assert (await choose(jan, 3, confirm_irreversible=True)).status_code == 200
    secret = b"the combination of the safe is 12-34-56 " * 200
    document_id = (await upload(jan, "secret.txt", secret)).json()["id"]
    async with server.sessions() as db:
        document = await db.get(Document, document_id)
        wrapped_key = document.wrapped_key
    key = uuid.UUID(document_id).hex  # fragments are named by it
    kept = {path: path.read_bytes() for path in fragments(server) if key in path.name}
    assert kept
    database_files = []
    if settings.database_url.startswith("sqlite"):
        database_file = Path(settings.database_url.split("///", 1)[1])
        database_files = [database_file, Path(f"{database_file}-wal")]
        assert any(file_holds(p, wrapped_key) for p in database_files)
    assert (await record_death(notary, JAN)).status_code == 201

    await sweep(platform, days=10)

    async with server.sessions() as db:
        assert await db.get(Document, document_id) is None
        tombstone = await db.scalar(select(Tombstone).where(Tombstone.document_id == document_id))
        assert tombstone is not None and tombstone.reason == "option-3"
    assert not [p for p in fragments(server) if key in p.name]
    for path in database_files:  # SQLite: nothing left in the file or its log either
        assert not file_holds(path, wrapped_key)
    # A "backup" of the fragments brought back: without the key, nothing decrypts.
    for path, data in kept.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for data in kept.values():
        assert secret[:32] not in data
    jan_download = await jan.get(f"/api/v1/documents/{document_id}/content")
    assert jan_download.status_code in (401, 404)
    async with server.sessions() as db:
        rows = await db.scalars(select(Document.id).where(Document.wrapped_key == wrapped_key))
        assert list(rows) == []


async def test_option_1_releases_at_death_shares_and_keeps_the_rest_for_the_heirs(
    server, platform, jan, marie, notary
):
    jan_id = (await jan.get("/api/v1/me")).json()["id"]
    await setup_vault(server, jan, marie)
    assert (await record_death(notary, JAN)).status_code == 201
    await sweep(platform, days=10)
    assert await owned(server, jan_id) == ["at-death.txt", "mine.txt", "now.txt"]
    assert await shared_with(marie) == ["at-death.txt", "now.txt"]
    # Nothing is transferred without a notary; at month 24 it is erased all the same.
    await sweep(platform, months=24)
    assert await owned(server, jan_id) == []
