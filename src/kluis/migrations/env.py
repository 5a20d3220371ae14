"""Alembic environment: runs migrations on the engine the settings name.

It belongs to the composition root: it imports every domain's models through `kluis.app`.

The same migrations run on SQLite (batch mode for ALTERs) and PostgreSQL. Statement and lock
timeouts keep a migration from blocking a busy PostgreSQL.
"""

import asyncio

from alembic import context
from sqlalchemy import text

from kluis.app import import_all_models
from kluis.db import create_engine, metadata
from kluis.settings import get_settings

import_all_models()
settings = context.config.attributes.get("settings") or get_settings()


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    # Render advanced-alchemy's column types by the names the migration template imports.
    if type_ == "type" and type(obj).__module__.startswith("advanced_alchemy.types"):
        name = type(obj).__name__
        return f"{name}(length=16)" if name == "GUID" else f"{name}(timezone=True)"
    return False


def _compare_type(context, inspected, metadata_column, inspected_type, metadata_type):  # type: ignore[no-untyped-def]
    # SQLite reflects advanced-alchemy's GUID as NUMERIC(16): not a change.
    if type(metadata_type).__name__ == "GUID":
        return False
    return None


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET lock_timeout = '5s'"))
        connection.execute(text("SET statement_timeout = '60s'"))
    else:
        # A batch ALTER on SQLite rebuilds the table and drops the old one; with foreign keys
        # on, that drop would cascade into the rows that point at it (shares of documents).
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=_compare_type,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_engine(settings)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_main())
