"""Several server processes' worth of the platform: apps on one database (and one Redis),
each on a loopback port of its own, behind one public URL as `kluis serve` runs them.

The first instance answers the public URL: logins go through its development identity
provider and come back to it; a test then talks to any instance directly (cookies of
127.0.0.1 are sent to every port, as behind a proxy they go to every process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import event

from kluis.settings import Settings
from tests.conftest import LiveServer
from tests.support.net import free_port


def instance_settings(settings: Settings, public_url: str, port: int, **changes: Any) -> Settings:
    """`settings` for a server on `port` whose public URL is `public_url`."""
    providers = {
        name: msgspec.structs.replace(
            p, discovery_url=p.discovery_url.replace(settings.base_url, public_url)
        )
        for name, p in settings.providers.items()
    }
    return msgspec.structs.replace(
        settings, port=port, public_url=public_url, providers=providers, **changes
    )


class Instance(LiveServer):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # As `kluis serve` runs it: uvicorn itself believes no X-Forwarded-For (the platform
        # does, from the proxies `rate_limits.trusted_proxies` names).
        self.serving.server.config.proxy_headers = False
        self.url = f"http://{settings.host}:{settings.port}"  # its own port, not the public URL
        self.platform = self.app.state.platform
        self.statements: list[str] = []
        event.listen(self.platform.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    def session_queries(self) -> list[str]:
        """The statements on `web_sessions` this instance ran since the last call."""
        found = [s for s in self.statements if "web_sessions" in s]
        self.statements.clear()
        return found


@contextmanager
def instances(settings: Settings, count: int = 2, **changes: Any) -> Iterator[list[Instance]]:
    """`count` servers on the same database, with `changes` to their settings."""
    ports = [free_port() for _ in range(count)]
    public_url = f"http://127.0.0.1:{ports[0]}"
    started: list[Instance] = []
    try:
        for port in ports:
            server = Instance(instance_settings(settings, public_url, port, **changes))
            server.start()
            started.append(server)
        yield started
    finally:
        for server in started:
            server.stop()
