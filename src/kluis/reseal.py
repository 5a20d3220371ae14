"""Re-sealing (composition): every stored value the key provider sealed, brought under the
current master key after a rotation (`kluis keys reseal`, docs/keys.md).

Rotation only changes which master key seals from now on. A value sealed earlier (a
document's data key, an NRN, a private key) stays sealed under its old master key until it is
re-sealed here: opened with the key it names and sealed again, with the same associated data,
under the current one. The plaintext it protects does not change: a document's content stays
encrypted under the same data key, and no blind index changes.

`SEALED` names each sealed column and its associated data, as the domain that seals it
computes it. A test fails when a binary column is neither listed here nor in `NOT_SEALED`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acts.dossiers.messages import message_aad
from acts.seals import seal_key_aad
from idp_bridge.rp_keys import private_key_aad
from idp_bridge.services.people import NRN_AAD
from idp_bridge.services.sessions import ID_TOKEN_AAD
from kluis.db import metadata
from kluis.errors import ConfigurationError
from kluis.keys import ManagedKeys
from kluis.keys.base import split_sealed
from vault.services.documents import data_key_aad


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    aad: Callable[[Any], bytes]  # of a row with `id` and the columns in `uses`
    uses: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


def _nrn(table: str) -> SealedColumn:
    return SealedColumn(table, "nrn_sealed", lambda _row: NRN_AAD)


SEALED: tuple[SealedColumn, ...] = (
    SealedColumn("documents", "wrapped_key", lambda row: data_key_aad(row.id)),
    _nrn("people"),
    _nrn("heirs"),
    _nrn("office_members"),
    _nrn("company_members"),
    _nrn("dossier_clients"),
    _nrn("deed_parties"),
    SealedColumn("web_sessions", "id_token_sealed", lambda _row: ID_TOKEN_AAD),
    SealedColumn(
        "relying_party_keys",
        "private_jwk_sealed",
        lambda row: private_key_aad(row.kid),
        uses=("kid",),
    ),
    SealedColumn(
        "office_seal_keys", "private_jwk_sealed", lambda row: seal_key_aad(row.kid), ("kid",)
    ),
    SealedColumn("dossier_messages", "subject_sealed", lambda row: message_aad(row.id, "subject")),
    SealedColumn("dossier_messages", "body_sealed", lambda row: message_aad(row.id, "body")),
    SealedColumn("questionnaires", "answers_sealed", lambda row: uuid.UUID(str(row.id)).bytes),
)

# Binary columns that hold no sealed value (none yet).
NOT_SEALED: frozenset[str] = frozenset()


@dataclass
class ResealReport:
    current_key_id: str
    resealed: Counter[str] = field(default_factory=Counter)  # column -> values re-sealed
    found: Counter[str] = field(default_factory=Counter)  # master key id -> values before
    changed_meanwhile: int = 0  # rewritten by the platform between our read and our write
    unopened: list[str] = field(default_factory=list)  # "column id" that did not open

    @property
    def ok(self) -> bool:
        return not self.unopened


async def reseal(
    session_maker: async_sessionmaker[AsyncSession],
    keys: ManagedKeys,
    *,
    batch: int = 500,
) -> ResealReport:
    """Re-seal every value not sealed under the current master key. Idempotent; safe while
    the platform runs (a value the platform rewrote meanwhile is left as it wrote it)."""
    current = keys.current_key_id
    report = ResealReport(current)
    for spec in SEALED:
        table = metadata.tables[spec.table]
        column = table.c[spec.column]
        query = (
            select(table.c.id, *(table.c[name] for name in spec.uses), column.label("sealed"))
            .where(column.is_not(None))
            .order_by(table.c.id)
            .limit(batch)
        )
        last: Any = None
        while True:
            async with session_maker() as db:
                page = query if last is None else query.where(table.c.id > last)
                rows = (await db.execute(page)).all()
                for row in rows:
                    sealed: bytes = row.sealed
                    aad = spec.aad(row)
                    try:
                        key_id = split_sealed(sealed)[0]
                        report.found[key_id] += 1
                        if key_id == current:
                            continue
                        fresh = keys.seal(keys.open(sealed, aad), aad)
                    except (InvalidTag, ConfigurationError):
                        report.unopened.append(f"{spec.name} {row.id}")
                        continue
                    done = await db.execute(
                        update(table)
                        .where(table.c.id == row.id, column == sealed)
                        .values({spec.column: fresh})
                    )
                    if done.rowcount:  # type: ignore[attr-defined]
                        report.resealed[spec.name] += 1
                    else:
                        report.changed_meanwhile += 1
                await db.commit()
            if len(rows) < batch:
                break
            last = rows[-1].id
    return report
