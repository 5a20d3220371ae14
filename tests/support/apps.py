"""A second application in the test's own process, on settings changed for one test (a
scanner that is gone, a location removed, a Redis broker), reached without a socket."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec

from kluis.app import create_app
from kluis.settings import Settings


def variant(
    settings: Settings,
    *,
    locations: list[Path] | None = None,
    clamd_url: str | None = None,
    ops: dict[str, Any] | None = None,
    **top: Any,
) -> Settings:
    """`settings` with its own storage locations (so removing one disturbs no other test),
    another clamd, other `[ops]` or `[tasks]` settings, or other top-level ones."""
    vault = settings.vault
    if locations is not None:
        vault = msgspec.structs.replace(
            vault,
            locations=[msgspec.structs.replace(vault.locations[0], path=str(p)) for p in locations],
        )
    if clamd_url is not None:
        vault = msgspec.structs.replace(vault, clamd_url=clamd_url)
    changed = msgspec.structs.replace(
        settings, vault=vault, ops=msgspec.structs.replace(settings.ops, **(ops or {})), **top
    )
    return changed


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an application built from `settings`, in this process."""
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
    finally:
        await app.state.platform.aclose()
