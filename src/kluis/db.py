"""Database: async SQLAlchemy through Litestar's SQLAlchemy plugin, migrations by Alembic.

Models use advanced-alchemy's `UUIDAuditBase` (UUID primary key, created/updated
timestamps). Services own their transactions and commit explicitly: a refused login must
still commit its history entry while the response is a 4xx.
"""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.base import UUIDAuditBase, orm_registry
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
)
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from kluis.settings import Settings

Base = UUIDAuditBase
metadata = orm_registry.metadata
MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["AsyncSession", "Base", "metadata"]

# The `info` entry of every session that holds the secret history heads are anchored with
# (kluis.audit): each session writing history needs it, and only the platform has it.
HISTORY_KEY = "kluis.history_key"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the development identity provider read while a login request writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not left in free pages: a destroyed
    # document's wrapped key must not be readable from the file afterwards.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        db_path = settings.path(url.database)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(db_path))
    # No pre-ping: a connection lost since its last use answers one request with 503
    # (kluis.web.errors.handle_lost_connection). Connections are renewed every half hour,
    # before a firewall or proxy between here and the database drops them as idle.
    engine = create_async_engine(url, pool_recycle=1800)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_maker(engine: AsyncEngine, history_key: bytes) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, info={HISTORY_KEY: history_key})


def sqlalchemy_config(engine: AsyncEngine, history_key: bytes) -> SQLAlchemyAsyncConfig:
    """The request's database session (`db`). `provide_session(state, scope)` gives the one
    session of a request: the identity middleware reads the session cookie's row with it,
    and the handler goes on in it."""
    # Advanced Alchemy's cache listener runs after every commit unless the session's info
    # turns it off, and asks the engine for its options by building a new engine proxy
    # each time; no repository here has its cache.
    info = {HISTORY_KEY: history_key, "enable_cache_listener": False}
    return SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False, info=info),
        session_dependency_key="db",
        create_all=False,
        enable_file_object_listener=False,  # no FileObject columns: a flush needs no scan
    )


async def insert_unless_exists(
    db: AsyncSession, model: type[Base], conflict_on: list[str], **values: object
) -> None:
    """INSERT … ON CONFLICT DO NOTHING: concurrent requests creating the same row (the same
    person logging in twice at once) must not fail on the unique constraint."""
    insert = pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert
    await db.execute(
        insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_on)
    )


async def purge_deleted(db: AsyncSession) -> None:
    """Leave no readable copy of rows just deleted (a destroyed document's wrapped key).
    SQLite zeroes them in the file (`secure_delete`) but its write-ahead log still holds
    the old pages until it is checkpointed and truncated. PostgreSQL's dead row versions
    go when autovacuum reclaims them."""
    if db.bind.dialect.name == "sqlite":
        async with db.bind.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def alembic_config(settings: Settings) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the schema to `revision`. Runs its own event loop: call it outside one."""
    command.upgrade(alembic_config(settings), revision)
