"""Migrations build the schema the models describe, and keep what is there: a table
rebuilt on SQLite must not take rows with it."""

from __future__ import annotations

import sqlite3
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kluis import db as database
from kluis.settings import load_settings


def test_rebuilding_documents_keeps_the_shares_that_point_at_them(tmp_path):
    path = tmp_path / "old.db"
    settings = load_settings(
        {"KLUIS_ENV": "test"},
        database_url=f"sqlite+aiosqlite:///{path}",
        key_file=str(tmp_path / "keys.json"),
        data_dir=str(tmp_path),
    )
    database.upgrade(settings, "0004")
    ids = [uuid.uuid4().bytes for _ in range(4)]
    person_a, person_b, document, share = ids
    now = "2026-11-23 10:00:00.000000"
    with sqlite3.connect(path) as conn:
        for person in (person_a, person_b):
            conn.execute(
                "INSERT INTO people (id, nrn_index, nrn_sealed, given_name, surname, "
                "email_verified, language, notifications, created_at, updated_at) "
                "VALUES (?, ?, x'00', 'A', 'B', 0, 'nl', '{}', ?, ?)",
                (person, person.hex(), now, now),
            )
        conn.execute(
            "INSERT INTO documents (id, owner_id, name, size, sha256, media_type, categories, "
            "labels, search_text, wrapped_key, chunk_bytes, chunk_count, fragments_needed, "
            "fragments_total, created_at, updated_at) VALUES (?, ?, 'a.txt', 1, '', "
            "'text/plain', '[]', '[]', '', x'00', 1, 1, 2, 3, ?, ?)",
            (document, person_a, now, now),
        )
        conn.execute(
            "INSERT INTO shares (id, document_id, owner_id, recipient_id, takes_effect, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 'now', ?, ?)",
            (share, document, person_a, person_b, now, now),
        )

    database.upgrade(settings)

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM shares").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (1,)


async def test_the_migrated_schema_is_the_one_the_models_describe(platform):
    """Every table, column, index and constraint of the models, and nothing more, after
    all migrations: a model changed without its migration fails here. Column types are
    compared on PostgreSQL only: SQLite reflects its own storage types, not the models'."""
    postgres = platform.engine.dialect.name == "postgresql"
    async with platform.engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": postgres}),
                database.metadata,
            )
        )
    assert differences == []
