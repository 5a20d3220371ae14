"""Shared fixtures: test settings, a migrated database, a live server on loopback.

`KLUIS_TEST_DATABASE` picks the engine: `sqlite` (default, a file per run) or a PostgreSQL
URL (scripts/test-suite.sh starts a throwaway server). The schema comes from the real
migrations, never from `create_all`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from kluis import db as database
from kluis.app import Platform, build_platform, create_app
from kluis.settings import Settings, load_settings
from tests.support.net import ServerThread, free_port
from tests.support.redis import RedisServer
from tests.support.softhsm import SoftHsm, softhsm_token
from vault.local_clamd import LocalClamd, clamd_binary


def _reset_postgres(url: str) -> None:
    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


# Small limits keep the refusal tests quick; the engine is the same at any size.
TEST_QUOTA = 8 * 1024**2
TEST_MAX_UPLOAD = 6 * 1024**2


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalClamd]:
    """A real clamd with the project's test signatures (`make test` installs ClamAV)."""
    if clamd_binary() is None:
        pytest.fail("clamd is missing: `make test` installs Debian's clamav-daemon")
    daemon = LocalClamd(tmp_path_factory.mktemp("clamd"), TEST_MAX_UPLOAD)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """A real SoftHSM2 token (`make test` installs Debian's softhsm2)."""
    yield from softhsm_token(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis on a free loopback port, for this run only (`make test` installs it)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url()
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test that reaches the database does so through `settings`: those are the ones
    # worth running once more on PostgreSQL (`-m database`, scripts/test-suite.sh).
    for item in items:
        if "settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.database)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, clamd: LocalClamd) -> Settings:
    root: Path = tmp_path_factory.mktemp("kluis")
    choice = os.environ.get("KLUIS_TEST_DATABASE", "sqlite")
    url = f"sqlite+aiosqlite:///{root / 'test.db'}" if choice == "sqlite" else choice
    if not url.startswith("sqlite"):
        _reset_postgres(url)
    settings = load_settings(
        {"KLUIS_ENV": "test"},
        port=free_port(),
        database_url=url,
        key_file=str(root / "keys.json"),
        data_dir=str(root),
        vault={
            "clamd_url": clamd.url,
            "quota_bytes": TEST_QUOTA,
            "quota_tiers": {"2MB": 2 * 1000**2, "1GB": 1000**3},
            "max_upload_bytes": TEST_MAX_UPLOAD,
            "locations": [{"path": str(root / f"location-{n}")} for n in (1, 2, 3)],
        },
    )
    database.upgrade(settings)
    return settings


@pytest.fixture(scope="session")
def platform(settings: Settings) -> Platform:
    return build_platform(settings)


# The platform's own OpenID keys survive from one server test to the next: making them
# costs two RSA key pairs per test. Tests of the keys themselves use `db`, which empties all.
KEPT_BETWEEN_SERVER_TESTS = ("relying_party_keys",)


async def _truncate(engine: AsyncEngine, keep: tuple[str, ...] = ()) -> None:
    async with engine.begin() as conn:
        for table in reversed(database.metadata.sorted_tables):
            if table.name not in keep:
                await conn.execute(table.delete())


def _clear_locations(settings: Settings) -> None:
    for location in settings.vault.locations:
        shutil.rmtree(location.path, ignore_errors=True)


@pytest.fixture
async def db(platform: Platform) -> AsyncIterator[AsyncSession]:
    """A database session on an emptied database."""
    await _truncate(platform.engine)
    async with platform.session_maker() as session:
        yield session


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.url = settings.base_url
        self.serving = ServerThread(self.app, settings.port, host=settings.host, lifespan="on")
        self.sessions = None  # set by the `server` fixture

    @property
    def dev_idp(self):  # type: ignore[no-untyped-def]
        return self.app.state.platform.dev_idp

    def start(self) -> None:
        self.serving.start()

    def stop(self) -> None:
        self.serving.stop()


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    yield server
    server.stop()


def reset_state(settings: Settings) -> None:
    """Empty the database and the storage locations, from synchronous code (browser tests),
    on an engine and event loop of its own in a thread of its own."""

    async def reset() -> None:
        engine = database.create_engine(settings)
        await _truncate(engine, keep=KEPT_BETWEEN_SERVER_TESTS)
        await engine.dispose()

    worker = threading.Thread(target=lambda: asyncio.run(reset()))
    worker.start()
    worker.join()
    _clear_locations(settings)


@pytest.fixture
async def server(live_server: LiveServer, platform: Platform) -> LiveServer:
    """The live server, on an emptied database.

    `server.sessions()` opens a database session for the test's own checks: it uses the
    test's engine, as the server's connections belong to the server's event loop.
    """
    return await emptied(live_server, platform)


async def emptied(live_server: LiveServer, platform: Platform) -> LiveServer:
    """`live_server` on an emptied database and storage, its `sessions` the platform's."""
    await _truncate(platform.engine, keep=KEPT_BETWEEN_SERVER_TESTS)
    _clear_locations(platform.settings)
    live_server.sessions = platform.session_maker
    return live_server


@pytest.fixture
async def browser_client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that keeps cookies like a browser does."""
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        yield client
