"""The vault as a test sees it: uploads over HTTP, the fragments on disk, the rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests.support.login import csrf
from vault.models import Document
from vault.storage import DESTROYED


def fragments(server) -> list[Path]:
    """Every fragment file at the server's locations (destruction markers left out)."""
    return [p for p in stored_files(server) if p.suffix != f".{DESTROYED}"]


def destruction_markers(server) -> list[Path]:
    return [p for p in stored_files(server) if p.suffix == f".{DESTROYED}"]


def stored_files(server) -> list[Path]:
    roots = [Path(loc.path) for loc in server.app.state.settings.vault.locations]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


async def document_rows(server) -> int:
    async with server.sessions() as db:
        return await db.scalar(select(func.count()).select_from(Document)) or 0


async def upload(client, name: str, data: bytes, **params):
    return await client.post(
        "/api/v1/documents",
        params={"name": name, **params},
        content=data,
        headers=csrf(client),
    )
