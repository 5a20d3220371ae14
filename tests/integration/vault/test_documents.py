"""The vault over real HTTP: upload streamed through clamd and the storage engine."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket

import pytest
from sqlalchemy import select

from kluis.audit import HistoryEvent
from tests.conftest import TEST_MAX_UPLOAD, TEST_QUOTA
from tests.support import files
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.vault import document_rows, fragments, upload
from vault.scanner import ClamdScanner


async def test_upload_list_and_download(server, jan):
    data = files.pdf(os.urandom(300_000))

    response = await upload(jan, "Eigendomsakte.pdf", data, category="real-estate", label="huis")

    assert response.status_code == 201, response.text
    document = response.json()
    assert document["name"] == "Eigendomsakte.pdf"
    assert document["size"] == len(data)
    assert document["sha256"] == hashlib.sha256(data).hexdigest()
    assert document["media_type"] == "application/pdf"
    assert document["categories"] == ["real-estate"]
    assert document["labels"] == ["huis"]
    listed = (await jan.get("/api/v1/documents")).json()
    assert [d["id"] for d in listed] == [document["id"]]
    content = await jan.get(f"/api/v1/documents/{document['id']}/content")
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"].startswith("application/pdf")
    assert content.headers["content-disposition"].startswith("attachment;")
    assert len(fragments(server)) == 3


async def test_fragments_hold_nothing_readable(server, jan):
    data = b"Mijn testament: alles aan de kinderen. " * 2000
    assert (await upload(jan, "testament.txt", data)).status_code == 201
    for path in fragments(server):
        assert b"testament" not in path.read_bytes()


async def test_range_requests(server, jan):
    data = os.urandom(3 * 1024 * 1024 + 99)
    document = (await upload(jan, "scan.pdf", files.pdf(data))).json()
    whole = files.pdf(data)

    part = await jan.get(
        f"/api/v1/documents/{document['id']}/content", headers={"range": "bytes=1048570-1048600"}
    )
    assert part.status_code == 206
    assert part.content == whole[1048570:1048601]
    assert part.headers["content-range"] == f"bytes 1048570-1048600/{len(whole)}"
    tail = await jan.get(
        f"/api/v1/documents/{document['id']}/content", headers={"range": "bytes=-10"}
    )
    assert tail.content == whole[-10:]
    bad = await jan.get(
        f"/api/v1/documents/{document['id']}/content", headers={"range": "bytes=99999999-"}
    )
    assert bad.status_code == 416


async def test_filters_search_rename_and_usage(server, jan):
    a = (await upload(jan, "Huwelijkscontract.pdf", files.pdf(), category="family")).json()
    b = (await upload(jan, "Foto.png", files.png(), label="vakantie")).json()

    assert [d["id"] for d in (await jan.get("/api/v1/documents?category=family")).json()] == [
        a["id"]
    ]
    assert [d["id"] for d in (await jan.get("/api/v1/documents?label=vakantie")).json()] == [
        b["id"]
    ]
    assert [d["id"] for d in (await jan.get("/api/v1/documents?q=huwelijk")).json()] == [a["id"]]
    assert [d["id"] for d in (await jan.get("/api/v1/documents?q=VAKANTIE")).json()] == [b["id"]]

    renamed = await jan.patch(
        f"/api/v1/documents/{a['id']}",
        json={"name": "Huwelijk 2001.pdf", "categories": ["family", "finances"]},
        headers=csrf(jan),
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Huwelijk 2001.pdf"
    assert renamed.json()["categories"] == ["family", "finances"]
    labelled = await jan.patch(
        f"/api/v1/documents/{b['id']}", json={"labels": ["zomer"]}, headers=csrf(jan)
    )
    assert labelled.json()["labels"] == ["zomer"]
    events = (await jan.get("/api/v1/history")).json()["events"]
    assert [(e["action"], e["target"]) for e in events[:2]] == [
        ("vault:document:changed", "Foto.png"),
        ("vault:document:renamed", "Huwelijk 2001.pdf"),
    ]
    usage = (await jan.get("/api/v1/usage")).json()
    assert usage == {"used_bytes": a["size"] + b["size"], "quota_bytes": TEST_QUOTA}


async def test_rename_cannot_change_the_type(server, jan):
    document = (await upload(jan, "akte.pdf", files.pdf())).json()
    url = f"/api/v1/documents/{document['id']}"
    to_docx = await jan.patch(url, json={"name": "akte.docx"}, headers=csrf(jan))
    assert to_docx.status_code == 422
    assert to_docx.json()["type"] == "document-extension-changed"
    to_exe = await jan.patch(url, json={"name": "akte.exe"}, headers=csrf(jan))
    assert to_exe.status_code == 415


async def test_delete_shreds_the_key_and_the_fragments(server, jan):
    document = (await upload(jan, "oud.pdf", files.pdf())).json()

    response = await jan.delete(f"/api/v1/documents/{document['id']}", headers=csrf(jan))

    assert response.status_code == 204
    assert fragments(server) == []
    assert await document_rows(server) == 0
    gone = await jan.get(f"/api/v1/documents/{document['id']}/content")
    assert gone.status_code == 404


async def test_someone_elses_document_is_not_found(server, jan):
    document = (await upload(jan, "prive.pdf", files.pdf())).json()
    import httpx

    async with httpx.AsyncClient(base_url=server.url) as marie:
        await login(marie, login_hint=MARIE)
        for path in ("", "/content"):
            response = await marie.get(f"/api/v1/documents/{document['id']}{path}")
            assert response.status_code == 404
        response = await marie.delete(f"/api/v1/documents/{document['id']}", headers=csrf(marie))
        assert response.status_code == 404
        assert (await marie.get("/api/v1/documents")).json() == []


async def test_history_records_upload_download_delete_and_refusal(server, jan):
    document = (await upload(jan, "a.pdf", files.pdf())).json()
    await jan.get(f"/api/v1/documents/{document['id']}/content")
    await jan.delete(f"/api/v1/documents/{document['id']}", headers=csrf(jan))
    await upload(jan, "virus.txt", files.EICAR)

    actions = [e["action"] for e in (await jan.get("/api/v1/history")).json()["events"]]
    assert actions[:4] == [
        "vault:document:refused",
        "vault:document:deleted",
        "vault:document:downloaded",
        "vault:document:uploaded",
    ]


REFUSALS = [
    ("setup.exe", b"MZ\x90\x00", 415, "file-type-not-allowed"),
    ("brief.docx", files.pdf(), 415, "file-type-not-allowed"),
    ("leeg.pdf", b"", 422, "empty-file"),
    ("x" * 300 + ".pdf", files.pdf(), 422, "document-name-too-long"),
    ("../../etc/passwd.txt", b"root", 422, "document-name-invalid"),
    ("naam\x07.txt", b"hallo", 422, "document-name-invalid"),
    ("eicar.txt", files.EICAR, 422, "malware-found"),
    ("eicar.zip", files.zipped({"eicar.com": files.EICAR}), 422, "malware-found"),
    ("eicar.tar.gz", files.tar_gz({"eicar.com": files.EICAR}), 422, "malware-found"),
    ("eicar.pdf", files.pdf(files.EICAR), 422, "malware-found"),
    ("clam.7z", files.testfile("clam.7z"), 422, "malware-found"),
    ("bom.zip", files.nested_zip(24), 422, "unscannable-content"),
    ("vol.zip", files.crowded_zip(10_050), 422, "unscannable-content"),
    ("geheim.zip", files.encrypted_zip(), 422, "unscannable-content"),
    ("beveiligd.xlsx", files.password_protected_xlsx(), 422, "unscannable-content"),
]


@pytest.mark.parametrize(
    ("name", "data", "status", "problem"), REFUSALS, ids=[r[3] + ":" + r[0][:20] for r in REFUSALS]
)
async def test_refused_uploads_leave_nothing_behind(server, jan, name, data, status, problem):
    response = await upload(jan, name, data)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == problem
    assert fragments(server) == []
    assert await document_rows(server) == 0
    async with server.sessions() as db:
        refusal = await db.scalar(
            select(HistoryEvent).where(HistoryEvent.action == "vault:document:refused")
        )
    assert refusal.detail["reason"] == problem


async def test_file_larger_than_the_upload_cap(server, jan):
    response = await upload(jan, "groot.pdf", files.pdf(os.urandom(TEST_MAX_UPLOAD)))
    assert response.status_code == 413
    assert response.json()["type"] == "file-too-large"
    assert fragments(server) == []


async def test_file_over_quota(server, jan):
    first = await upload(jan, "een.pdf", files.pdf(os.urandom(5 * 1024 * 1024)))
    assert first.status_code == 201
    response = await upload(jan, "twee.pdf", files.pdf(os.urandom(4 * 1024 * 1024)))
    assert response.status_code == 413
    assert response.json()["type"] == "quota-exceeded"
    assert len(fragments(server)) == 3  # only the first document's


async def test_two_concurrent_uploads_cannot_exceed_the_quota_together(server, jan):
    data = files.pdf(os.urandom(5 * 1024 * 1024))
    responses = await asyncio.gather(upload(jan, "a.pdf", data), upload(jan, "b.pdf", data))

    assert sorted(r.status_code for r in responses) == [201, 413]
    assert await document_rows(server) == 1
    assert len(fragments(server)) == 3


async def test_clamd_unreachable_is_503_and_nothing_is_stored(server, jan, tmp_path):
    documents = server.app.state.platform.documents
    real = documents.scanner
    documents.scanner = ClamdScanner(f"unix://{tmp_path}/stopped.sock", timeout=2)
    try:
        response = await upload(jan, "brief.pdf", files.pdf())
    finally:
        documents.scanner = real
    assert response.status_code == 503
    assert response.json()["type"] == "scanner-unavailable"
    assert fragments(server) == []
    assert await document_rows(server) == 0


async def test_a_location_that_cannot_be_written_is_503_and_nothing_is_left(server, jan, tmp_path):
    engine = server.app.state.platform.documents.engine
    broken = tmp_path / "not-a-directory"
    broken.write_bytes(b"")
    real = engine.locations[1].root
    engine.locations[1].root = broken
    try:
        response = await upload(jan, "brief.pdf", files.pdf())
    finally:
        engine.locations[1].root = real
    assert response.status_code == 503
    assert response.json()["type"] == "storage-unavailable"
    assert fragments(server) == []
    assert await document_rows(server) == 0


async def test_a_client_that_disconnects_mid_upload_leaves_nothing(server, jan):
    host, port = server.url.removeprefix("http://").split(":")
    cookies = "; ".join(f"{k}={v}" for k, v in jan.cookies.items())
    request = (
        f"POST /api/v1/documents?name=half.pdf HTTP/1.1\r\nHost: {host}\r\n"
        f"Cookie: {cookies}\r\nx-csrftoken: {jan.cookies['csrftoken']}\r\n"
        f"Content-Length: {4 * 1024 * 1024}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(request + files.pdf(os.urandom(2 * 1024 * 1024)))
        await asyncio.sleep(0.5)
    for _ in range(50):  # the server notices and cleans up
        if not fragments(server):
            break
        await asyncio.sleep(0.1)
    assert fragments(server) == []
    assert await document_rows(server) == 0


async def test_a_quota_tier_set_by_the_operator_applies_at_once(server, platform, jan):
    from kluis.audit import Actor

    async with platform.session_maker() as db:
        person = await platform.identity.people.by_nrn(db, JAN)
        await platform.documents.set_tier(db, person, "2MB", Actor(label="operator (test)"))

    assert (await jan.get("/api/v1/usage")).json()["quota_bytes"] == 2_000_000
    response = await upload(jan, "groot.pdf", files.pdf(os.urandom(2_100_000)))
    assert response.status_code == 413
    assert response.json()["type"] == "quota-exceeded"
    assert fragments(server) == []
    history = (await jan.get("/api/v1/history")).json()["events"]
    assert "vault:quota:changed" in [e["action"] for e in history]


async def test_an_unknown_quota_tier_is_refused(server, platform, jan):
    from kluis.audit import Actor
    from kluis.errors import Invalid

    async with platform.session_maker() as db:
        person = await platform.identity.people.by_nrn(db, JAN)
        with pytest.raises(Invalid):
            await platform.documents.set_tier(db, person, "5TB", Actor(label="operator"))
