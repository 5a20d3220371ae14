"""The corpus of hostile uploads (tests/corpus/uploads), replayed against a live server:
each is refused with its problem and leaves nothing behind, or is stored and comes back
only as a download no browser renders, its name escaped wherever it is shown."""

from __future__ import annotations

import html
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kluis.audit import HistoryEvent
from tests.support.vault import document_rows, fragments, upload

CORPUS = Path(__file__).parents[2] / "corpus" / "uploads"
UPLOADS: list[dict[str, Any]] = tomllib.loads((CORPUS / "corpus.toml").read_text())["upload"]


def content_of(entry: dict[str, Any]) -> bytes:
    if "sample" in entry:
        return (CORPUS / "samples" / entry["sample"]).read_bytes()
    return entry["text"].encode()


def test_every_sample_is_in_the_corpus() -> None:
    listed = {entry["sample"] for entry in UPLOADS if "sample" in entry}
    assert listed == {p.name for p in (CORPUS / "samples").iterdir()}
    assert all(entry.get("why") for entry in UPLOADS)


@pytest.mark.parametrize(
    "entry", UPLOADS, ids=[f"{e['expect']}:{e['name'].encode('unicode_escape')!r}" for e in UPLOADS]
)
async def test_a_hostile_upload_is_refused_or_stored_harmless(server, jan, entry):
    data = content_of(entry)
    response = await upload(jan, entry["name"], data)

    if entry["expect"] != "stored":
        assert response.status_code in (400, 415, 422), response.text
        assert response.json()["type"] == entry["expect"]
        assert fragments(server) == []
        assert await document_rows(server) == 0
        async with server.sessions() as db:
            refusal = await db.scalar(
                select(HistoryEvent).where(HistoryEvent.action == "vault:document:refused")
            )
        if entry["expect"] == "bad-request":  # refused before the vault read it
            assert refusal is None
        else:
            assert refusal.detail["reason"] == entry["expect"]
        return

    assert response.status_code == 201, response.text
    document = response.json()
    name = unicodedata.normalize("NFC", entry["name"])
    assert document["name"] == name
    download = await jan.get(f"/api/v1/documents/{document['id']}/content")
    assert download.content == data
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    policy = download.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    page = await jan.get("/vault")
    assert html.escape(name, quote=False) in page.text
    if "<" in name:
        assert name not in page.text
