"""`kluis.reseal` knows every sealed column: a new binary column must be declared sealed
(with its associated data) or not."""

from __future__ import annotations

from sqlalchemy import LargeBinary

from kluis.app import import_all_models
from kluis.db import metadata
from kluis.reseal import NOT_SEALED, SEALED


def test_every_binary_column_is_declared_sealed_or_not():
    import_all_models()
    binary = {
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }
    declared = [spec.name for spec in SEALED]

    assert len(declared) == len(set(declared))
    assert binary - NOT_SEALED == set(declared)
    for spec in SEALED:
        table = metadata.tables[spec.table]
        assert {"id", *spec.uses} <= set(table.c.keys())
