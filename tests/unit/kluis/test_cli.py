"""The operator's `kluis` command, run as an operator would, on a database of its own."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import make_nrn
from kluis import audit, cli
from kluis import db as database
from kluis.settings import get_settings
from tests.support.history import run_in_session
from tests.support.login import JAN, NOTARY


@pytest.fixture
def kluis(tmp_path, monkeypatch):
    monkeypatch.setenv("KLUIS_ENV", "test")
    monkeypatch.setenv("KLUIS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("KLUIS_KEY_FILE", str(tmp_path / "keys.json"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli.main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("db", "upgrade")
    yield run
    get_settings.cache_clear()


def test_notary_office_and_members(kluis):
    out = kluis(
        "notary",
        "office",
        "add",
        "--name",
        "Notaris Peeters",
        "--enterprise-number",
        "0403.170.701",
        "--municipality",
        "Gent",
    )
    assert "0403170701" in out
    assert "Notaris Peeters" in kluis("notary", "office", "list")

    out = kluis(
        "notary", "member", "add", "--office", "0403170701", "--nrn", NOTARY, "--role", "notary"
    )
    assert "notary added" in out
    kluis("notary", "member", "remove", "--office", "0403170701", "--nrn", NOTARY)
    out = kluis("notary", "member", "remove", "--office", "0403170701", "--nrn", NOTARY, code=1)
    assert "member-not-found" in out


def test_bad_enterprise_number_and_duplicate_office_are_refused(kluis):
    assert "enterprise-number-invalid" in kluis(
        "notary", "office", "add", "--name", "X", "--enterprise-number", "0403170702", code=1
    )
    kluis("notary", "office", "add", "--name", "X", "--enterprise-number", "0403170701")
    assert "office-exists" in kluis(
        "notary", "office", "add", "--name", "X", "--enterprise-number", "0403170701", code=1
    )


def test_member_with_a_bad_nrn_is_refused(kluis):
    kluis("notary", "office", "add", "--name", "X", "--enterprise-number", "0403170701")
    out = kluis(
        "notary",
        "member",
        "add",
        "--office",
        "0403170701",
        "--nrn",
        "85073003327",
        "--role",
        "staff",
        code=1,
    )
    assert "nrn-invalid" in out
    assert "85073003327" not in out.replace("--nrn", "")


def test_demo_seed_is_idempotent(kluis):
    assert "6 new citizens, 1 new offices" in kluis("demo", "seed")
    assert "0 new citizens, 0 new offices" in kluis("demo", "seed")


def test_audit_verify_reports_intact_histories(kluis):
    kluis("demo", "seed")
    out = kluis("audit", "verify")
    assert "histories" in out


def _two_histories() -> tuple[uuid.UUID, uuid.UUID]:
    """Alice's history of four events and Bob's of one, written as the platform writes
    them (with the key the command line's platform anchors heads with)."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    actor = audit.Actor(label="Alice", ip="192.0.2.7")

    async def write(db: AsyncSession) -> None:
        for n in range(4):
            await audit.record(db, subject_id=alice, action=f"test:event:{n}", actor=actor)
        await audit.record(db, subject_id=bob, action="test:event:0", actor=actor)

    asyncio.run(run_in_session(get_settings(), write))
    return alice, bob


async def _rewrite_alices_history(alice: uuid.UUID) -> None:
    """What someone who can write to the database but holds no key can do: change event 2
    and recompute every hash after it, and the head's, consistently."""
    engine = database.create_engine(get_settings())
    async with AsyncSession(engine) as db:
        events = (
            await db.scalars(
                select(audit.HistoryEvent)
                .where(audit.HistoryEvent.subject_id == alice)
                .order_by(audit.HistoryEvent.seq)
            )
        ).all()
        events[1].actor_label = "Mallory"
        for previous, event in itertools.pairwise(events):
            event.prev_hash = previous.hash
            event.hash = audit.event_hash(event)
        head = await db.scalar(
            select(audit.HistoryHead).where(audit.HistoryHead.subject_id == alice)
        )
        assert head is not None
        head.hash = events[-1].hash
        await db.commit()
    await engine.dispose()


TAMPERING = {
    "an event edited": (
        "UPDATE history_events SET actor_label = 'Mallory' WHERE subject_id = :alice AND seq = 2",
        "event 2 was altered",
    ),
    "an event deleted": (
        "DELETE FROM history_events WHERE subject_id = :alice AND seq = 2",
        "event 2 missing or out of order",
    ),
    "the newest event deleted": (
        "DELETE FROM history_events WHERE subject_id = :alice AND seq = 4",
        "head does not match event 3",
    ),
    "two events swapped": (
        "UPDATE history_events SET seq = 99 WHERE subject_id = :alice AND seq = 2;"
        "UPDATE history_events SET seq = 2 WHERE subject_id = :alice AND seq = 3;"
        "UPDATE history_events SET seq = 3 WHERE subject_id = :alice AND seq = 99",
        "event 2 does not follow its predecessor",
    ),
    "an event added at the end": (
        "INSERT INTO history_events (id, subject_id, seq, at, actor_label, action, detail,"
        " prev_hash, hash) SELECT randomblob(16), subject_id, 5, at, actor_label,"
        " 'test:forged', detail, hash, hash FROM history_events"
        " WHERE subject_id = :alice AND seq = 4",
        "event 5 was altered",
    ),
    "the head moved back": (
        "UPDATE history_heads SET seq = 3 WHERE subject_id = :alice",
        "head does not match event 4",
    ),
    "a whole history deleted": (
        "DELETE FROM history_events WHERE subject_id = :alice",
        "events removed: head without events",
    ),
    "the head's anchor removed": (
        "UPDATE history_heads SET mac = NULL WHERE subject_id = :alice",
        "head not anchored",
    ),
    "the head's anchor taken from another history": (
        "UPDATE history_heads SET mac = (SELECT mac FROM history_heads WHERE subject_id != :alice)"
        " WHERE subject_id = :alice",
        "head's anchor does not match",
    ),
}


@pytest.mark.parametrize(("changes", "problem"), TAMPERING.values(), ids=TAMPERING.keys())
def test_audit_verify_finds_each_kind_of_tampering_and_names_the_history(
    kluis, tmp_path, changes, problem
):
    import sqlite3

    alice, bob = _two_histories()
    assert "2 histories, 5 events checked" in kluis("audit", "verify")
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        for statement in changes.split(";"):  # SQLite keeps a UUID as its 16 bytes
            assert conn.execute(statement, {"alice": alice.bytes}).rowcount >= 1
    out = kluis("audit", "verify", code=1)
    assert f"BROKEN {alice}: {problem}" in out
    assert str(bob) not in out  # the other history still holds


def test_audit_verify_finds_a_history_rewritten_without_the_key(kluis):
    alice, bob = _two_histories()
    asyncio.run(_rewrite_alices_history(alice))
    out = kluis("audit", "verify", code=1)
    assert f"BROKEN {alice}: head's anchor does not match" in out
    assert str(bob) not in out


def test_audit_anchor_anchors_only_intact_histories_written_before_anchoring(kluis, tmp_path):
    import sqlite3

    alice, bob = _two_histories()
    with sqlite3.connect(tmp_path / "cli.db") as conn:  # as an upgrade leaves them
        conn.execute("UPDATE history_heads SET mac = NULL")
        conn.execute(
            "UPDATE history_events SET actor_label = 'Mallory' WHERE subject_id = ? AND seq = 2",
            (alice.bytes,),
        )
    out = kluis("audit", "anchor", code=1)
    assert "1 histories anchored" in out
    assert f"BROKEN {alice}" in out
    out = kluis("audit", "verify", code=1)
    assert f"BROKEN {alice}: event 2 was altered" in out
    assert str(bob) not in out


def test_relying_party_keys_rotate(kluis):
    first = kluis("idp", "keys", "rotate")
    second = kluis("idp", "keys", "rotate")
    assert first.startswith("new keys: sig-")
    assert first != second


def test_seeded_people_are_not_stored_in_clear(kluis, tmp_path):
    kluis("demo", "seed")
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("cli.db*"))  # with the WAL
    assert JAN.encode() not in raw


def test_storage_scrub_reports_a_healthy_empty_vault(kluis):
    out = kluis("storage", "scrub", "--repair")
    assert "0 documents, 0 fragments checked" in out
    assert "0 orphaned fragments removed" in out


def test_vault_quota_tiers(kluis):
    kluis("demo", "seed")
    assert "quota set to 250MB (250000000 bytes)" in kluis(
        "vault", "quota", "--nrn", JAN, "--tier", "250MB"
    )
    assert "quota-tier-unknown" in kluis("vault", "quota", "--nrn", JAN, "--tier", "5TB", code=1)
    stranger = make_nrn(date(1980, 1, 1), 7)
    assert "person-not-found" in kluis("vault", "quota", "--nrn", stranger, "--tier", "1GB", code=1)


def test_office_address_and_email(kluis):
    kluis(
        "notary", "office", "add", "--name", "X", "--enterprise-number", "0403170701",
        "--address", "Grote Markt 1, 9000 Gent", "--email", "kantoor@notaris-x.example.test",
    )  # fmt: skip
    assert "email-invalid" in kluis(
        "notary", "office", "add", "--name", "Y", "--enterprise-number", "0040000028",
        "--email", "not-an-address", code=1,
    )  # fmt: skip


def test_office_api_clients(kluis, tmp_path):
    from joserfc.jwk import ECKey

    kluis("notary", "office", "add", "--name", "X", "--enterprise-number", "0403170701")
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    client_id = kluis(
        "notary", "client", "add", "--office", "0403170701", "--name", "Akteprogramma",
        "--jwks", str(jwks),
    ).strip()  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{48}", client_id), client_id  # never read as an option
    assert f"{client_id}\tAkteprogramma" in kluis(
        "notary", "client", "list", "--office", "0403170701"
    )
    assert "revoked" in kluis("notary", "client", "revoke", client_id)
    assert "revoked" in kluis("notary", "client", "list", "--office", "0403170701")
    assert "client-not-found" in kluis("notary", "client", "revoke", "nobody", code=1)

    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    assert "jwks-invalid" in kluis(
        "notary", "client", "add", "--office", "0403170701", "--name", "X", "--jwks", str(private),
        code=1,
    )  # fmt: skip
