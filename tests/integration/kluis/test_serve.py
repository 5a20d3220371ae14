"""`kluis serve`: the platform on granian in several processes, as production runs it."""

from __future__ import annotations

import os
import signal

import httpx

from tests.support import files
from tests.support.commands import kluis_serve
from tests.support.login import JAN, login
from tests.support.vault import upload


async def test_several_processes_serve_one_platform_and_stop_on_sigterm(server, settings):
    pdf = files.pdf(os.urandom(512 * 1024))
    async with kluis_serve(settings, "--workers", "2") as served:
        # The development identity provider keeps its codes in its process's memory, so
        # Jan logs in on the test server; his session, in the database, holds everywhere.
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as jan:
            await login(jan, login_hint=JAN)
            jan.base_url = httpx.URL(served.url)
            # A new connection for each request, so either process may answer any of them.
            for i in range(6):
                jan.headers["connection"] = "close"
                stored = await upload(jan, f"deed-{i}.pdf", pdf)
                assert stored.status_code == 201, stored.text
                content = await jan.get(f"/api/v1/documents/{stored.json()['id']}/content")
                assert content.content == pdf
        os.killpg(served.process.pid, signal.SIGTERM)
        assert served.process.wait(timeout=15) == 0
