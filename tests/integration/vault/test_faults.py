"""Faults: a lost location, a flipped byte, a server killed mid-upload — and scrubbing."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from kluis.audit import HistoryEvent
from kluis.cli_support import OPERATOR
from tests.conftest import TEST_MAX_UPLOAD, TEST_QUOTA
from tests.support import files
from tests.support.commands import kluis_serve
from tests.support.login import JAN, csrf, login
from tests.support.vault import destruction_markers, document_rows, fragments, upload
from vault.models import Document
from vault.scrub import Scrubber
from vault.storage.fragments import HEADER


async def stored(client, count: int = 3) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        data = files.pdf(os.urandom(1_500_000 + n))
        document = (await upload(client, f"doc{n}.pdf", data)).json()
        out.append((document["id"], data))
    return out


async def all_download_identical(client, documents) -> bool:
    for document_id, data in documents:
        response = await client.get(f"/api/v1/documents/{document_id}/content")
        if response.status_code != 200 or response.content != data:
            return False
    return True


async def scrub(platform, *, repair: bool, grace_seconds: float = 3600.0):
    async with platform.session_maker() as db:
        return await Scrubber(platform.documents).run(
            db, repair=repair, actor=OPERATOR, grace_seconds=grace_seconds
        )


async def test_one_location_deleted_everything_still_downloads_and_scrub_rebuilds_it(
    server, platform, jan
):
    documents = await stored(jan)
    lost = Path(platform.settings.vault.locations[0].path)
    shutil.rmtree(lost)

    assert await all_download_identical(jan, documents)
    report = await scrub(platform, repair=False)
    assert len(report.damaged) == 3 and not report.repaired and not report.unreadable

    report = await scrub(platform, repair=True)
    assert len(report.repaired) == 3
    assert len(list(lost.rglob("*.0"))) == 3
    assert (await scrub(platform, repair=False)).healthy
    shutil.rmtree(Path(platform.settings.vault.locations[1].path))  # now lose another one
    assert await all_download_identical(jan, documents)


async def test_a_flipped_byte_is_detected_served_from_the_others_and_repaired(
    server, platform, jan
):
    documents = await stored(jan, 1)
    victim = next(Path(platform.settings.vault.locations[2].path).rglob("*.2"))
    raw = bytearray(victim.read_bytes())
    raw[HEADER.size + 4096] ^= 0x20
    victim.write_bytes(bytes(raw))

    assert await all_download_identical(jan, documents)
    report = await scrub(platform, repair=True)
    assert report.damaged == report.repaired == [documents[0][0]]
    assert victim.read_bytes() != bytes(raw)
    assert (await scrub(platform, repair=False)).healthy


async def test_a_fragment_replaced_by_another_is_detected_and_repaired(server, platform, jan):
    # Every checksum inside holds, but the file is fragment 1, not fragment 0.
    documents = await stored(jan, 1)
    locations = [Path(location.path) for location in platform.settings.vault.locations]
    victim = next(locations[0].rglob("*.0"))
    victim.write_bytes(next(locations[1].rglob("*.1")).read_bytes())

    assert await all_download_identical(jan, documents)
    report = await scrub(platform, repair=True)
    assert report.damaged == report.repaired == [documents[0][0]]
    assert (await scrub(platform, repair=False)).healthy
    shutil.rmtree(locations[1])  # the rebuilt fragment 0 now carries the document
    assert await all_download_identical(jan, documents)


async def test_two_damaged_locations_are_reported_unreadable(server, platform, jan):
    await stored(jan, 1)
    for location in platform.settings.vault.locations[:2]:
        shutil.rmtree(location.path)
    report = await scrub(platform, repair=True)
    assert len(report.unreadable) == 1
    assert not report.healthy


async def test_orphaned_fragments_are_removed_only_after_the_grace_period(server, platform, jan):
    await stored(jan, 1)
    orphan = Path(platform.settings.vault.locations[0].path) / "ab" / "ab"
    orphan.mkdir(parents=True)
    (orphan / f"{'ab' * 16}.0").write_bytes(b"left behind")

    assert (await scrub(platform, repair=True)).orphans == []  # too young
    report = await scrub(platform, repair=True, grace_seconds=0)
    assert len(report.orphans) == 1
    assert len(fragments(server)) == 3


async def test_server_killed_mid_upload_leaves_no_document_and_scrub_cleans_up(server, platform):
    settings = platform.settings
    async with (
        kluis_serve(
            settings,
            KLUIS_VAULT__QUOTA_BYTES=str(TEST_QUOTA),
            KLUIS_VAULT__MAX_UPLOAD_BYTES=str(TEST_MAX_UPLOAD),
        ) as served,
        httpx.AsyncClient(base_url=served.url, timeout=30) as client,
    ):
        await login(client, login_hint=JAN)
        written, killed = asyncio.Event(), asyncio.Event()

        async def body():
            yield files.pdf(os.urandom(3 * 1024 * 1024))
            written.set()
            await killed.wait()  # the server dies while it waits for the rest
            yield b"the rest"

        headers = csrf(client)
        request = asyncio.create_task(
            client.post("/api/v1/documents?name=half.pdf", content=body(), headers=headers)
        )
        await written.wait()
        for _ in range(200):  # until the server is writing to every location
            if sum(p.name.endswith(".partial") for p in fragments(server)) == 3:
                break
            await asyncio.sleep(0.05)
        served.kill()
        killed.set()
        with pytest.raises(httpx.TransportError):
            await request

    assert await document_rows(server) == 0
    assert fragments(server)  # the dead server's unfinished fragments
    report = await scrub(platform, repair=True, grace_seconds=0)
    assert report.incomplete_removed == 3
    assert fragments(server) == []


async def test_a_destroyed_document_stays_destroyed_after_a_restore(server, platform, jan):
    """A database backup from before a deletion, restored (and, worse, the fragments with
    it), brings the row and its wrapped key back. The destruction markers the locations keep
    refuse it to anyone from the start, and make scrub destroy it again."""
    data = files.pdf(b"my old will")
    document_id = (await upload(jan, "will.pdf", data)).json()["id"]
    async with server.sessions() as db:
        document = await db.get(Document, uuid.UUID(document_id))
        backup = {
            c.key: getattr(document, c.key)
            for c in Document.__table__.columns
            if hasattr(document, c.key)
        }
    fragment_backup = {path: path.read_bytes() for path in fragments(server)}

    assert (await jan.delete(f"/api/v1/documents/{document_id}", headers=csrf(jan))).is_success
    assert len(destruction_markers(server)) == 3  # one at every location
    assert fragments(server) == []

    async with server.sessions() as db:  # the restore
        await db.execute(insert(Document).values(**backup))
        await db.commit()
    for path, content in fragment_backup.items():
        path.write_bytes(content)
    before = await jan.get("/api/v1/history")
    refused = await jan.get(f"/api/v1/documents/{document_id}/content")
    assert (refused.status_code, refused.json()["type"]) == (410, "document-destroyed")
    assert data not in refused.content
    assert (await jan.get("/api/v1/history")).json() == before.json()  # no download recorded

    found = await scrub(platform, repair=False)
    assert (found.resurrected, found.redestroyed, found.healthy) == ([document_id], [], False)
    mended = await scrub(platform, repair=True)
    assert (mended.resurrected, mended.redestroyed) == ([document_id], [document_id])
    assert (await jan.get(f"/api/v1/documents/{document_id}/content")).status_code == 404
    assert fragments(server) == []
    assert len(destruction_markers(server)) == 3
    async with server.sessions() as db:
        reasons = await db.scalars(
            select(HistoryEvent.detail).where(
                HistoryEvent.action == "vault:document:destroyed-again"
            )
        )
        assert [r["reason"] for r in reasons] == ["restored-after-destruction"]
    assert (await scrub(platform, repair=False)).healthy
