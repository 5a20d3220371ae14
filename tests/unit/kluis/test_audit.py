"""The history's hash chain detects every kind of tampering."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kluis import audit
from kluis.audit import Actor, HistoryEvent, HistoryHead, WrittenEvent
from kluis.db import HISTORY_KEY

ALICE = uuid.uuid4()
ACTOR = Actor(label="Alice", ip="127.0.0.1")


async def three_events(db) -> list[WrittenEvent]:
    events = [
        await audit.record(db, subject_id=ALICE, action=f"test:event:{n}", actor=ACTOR)
        for n in range(3)
    ]
    await db.commit()
    return events


def test_a_written_event_holds_every_column_of_the_events_table():
    columns = [c.key for c in HistoryEvent.__table__.columns if c.key != "sa_orm_sentinel"]
    assert [f.name for f in dataclasses.fields(WrittenEvent)] == columns


async def test_entries_and_heads_take_time_ordered_ids(db):
    """UUIDv7, so that new rows land at one end of the primary keys' indexes (and an
    entry's id tells no more than its time, docs/history.md)."""
    written = await three_events(db)
    stored = (
        await db.scalars(select(HistoryEvent.id).where(HistoryEvent.subject_id == ALICE))
    ).all()
    head = await db.scalar(select(HistoryHead.id).where(HistoryHead.subject_id == ALICE))

    assert sorted(stored) == [e.id for e in written]
    assert {i.version for i in [*stored, head]} == {7}


async def test_intact_chains_verify(db):
    await three_events(db)
    await audit.record(db, subject_id=uuid.uuid4(), action="test:other:one", actor=ACTOR)
    await db.commit()

    report = await audit.verify(db)

    assert report.ok
    assert (report.subjects, report.events) == (2, 4)


async def test_events_chain_to_their_predecessor(db):
    first, second, third = await three_events(db)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash


async def test_history_is_newest_first(db):
    await three_events(db)
    events = await audit.history_for(db, ALICE)
    assert [e.action for e in events] == ["test:event:2", "test:event:1", "test:event:0"]


async def test_an_edited_event_is_detected(db):
    _, second, _ = await three_events(db)
    await db.execute(
        update(HistoryEvent).where(HistoryEvent.id == second.id).values(actor_label="Mallory")
    )
    await db.commit()

    report = await audit.verify(db)
    assert report.broken[ALICE] == "event 2 was altered"


async def test_a_deleted_event_is_detected(db):
    _, second, _ = await three_events(db)
    await db.execute(delete(HistoryEvent).where(HistoryEvent.id == second.id))
    await db.commit()

    assert ALICE in (await audit.verify(db)).broken


async def test_deleting_the_newest_event_is_detected(db):
    *_, third = await three_events(db)
    await db.execute(delete(HistoryEvent).where(HistoryEvent.id == third.id))
    await db.commit()

    assert "head" in (await audit.verify(db)).broken[ALICE]


async def test_reordered_events_are_detected(db):
    first, second, _ = await three_events(db)
    await db.execute(update(HistoryEvent).where(HistoryEvent.id == first.id).values(seq=99))
    await db.execute(update(HistoryEvent).where(HistoryEvent.id == second.id).values(seq=1))
    await db.execute(update(HistoryEvent).where(HistoryEvent.id == first.id).values(seq=2))
    await db.commit()

    assert ALICE in (await audit.verify(db)).broken


async def test_a_history_emptied_entirely_is_detected(db):
    await three_events(db)
    await db.execute(delete(HistoryEvent))
    await db.commit()

    assert ALICE in (await audit.verify(db)).broken


async def test_every_head_is_anchored_under_the_platforms_key(db):
    await three_events(db)
    head = await db.scalar(select(HistoryHead).where(HistoryHead.subject_id == ALICE))
    key = db.info[HISTORY_KEY]
    assert head.mac == audit.head_mac(key, ALICE, 3, head.hash)


async def test_a_session_without_the_key_writes_no_history(platform, db):
    async with AsyncSession(platform.engine) as bare:
        with pytest.raises(RuntimeError, match="anchoring key"):
            await audit.record(bare, subject_id=ALICE, action="test:event:0", actor=ACTOR)
        await bare.rollback()
    assert (await db.scalar(select(func.count()).select_from(HistoryHead))) == 0


async def test_verify_one_subject(db):
    await three_events(db)
    head = await db.scalar(select(HistoryHead).where(HistoryHead.subject_id == ALICE))
    assert head.seq == 3
    assert await audit.chain_intact(db, ALICE)


async def test_entries_written_together_chain_like_entries_written_one_by_one(db):
    await three_events(db)
    bob = uuid.uuid4()
    events = await audit.record_all(
        db,
        [
            audit.Entry(ALICE, "test:together:one", ACTOR),
            audit.Entry(bob, "test:together:two", ACTOR, target="a deed", detail={"n": 2}),
            audit.Entry(ALICE, "test:together:three", ACTOR),
        ],
    )
    await db.commit()

    assert [(e.subject_id, e.seq) for e in events] == [(ALICE, 4), (bob, 1), (ALICE, 5)]
    assert events[2].prev_hash == events[0].hash
    assert events[1].prev_hash == audit.GENESIS
    assert (await audit.verify(db)).ok
    newest = await audit.history_for(db, bob)
    assert [(e.target, e.detail) for e in newest] == [("a deed", {"n": 2})]


@pytest.mark.parametrize("count", [2, 65])
async def test_statements_to_record_entries_are_few_and_fixed(platform, db, count):
    """Lock the heads, insert, move the heads: on PostgreSQL the last two go as one
    statement for a request's handful of entries; more entries than one statement takes
    (and SQLite, which has no INSERT inside a WITH) take the two."""
    await three_events(db)
    statements: list[str] = []

    def sent(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = platform.engine.sync_engine
    event.listen(engine, "before_cursor_execute", sent)
    try:
        entries = [
            audit.Entry(ALICE if n % 2 else uuid.uuid4(), "test:n", ACTOR) for n in range(count)
        ]
        await audit.record_all(db, entries)
        await db.commit()
    finally:
        event.remove(engine, "before_cursor_execute", sent)

    one = db.bind.dialect.name == "postgresql" and count <= 64
    assert len(statements) == (2 if one else 3)
    assert statements[0].startswith("INSERT INTO history_heads")
    if one:
        assert statements[1].startswith("WITH appended AS \n(INSERT INTO history_events")
    report = await audit.verify(db)
    assert report.ok
    assert report.events == 3 + count


def test_the_one_statement_is_compiled_once_not_per_request():
    """SQLAlchemy caches a statement's compiled form only if it has a cache key; a multi-row
    VALUES has none, and compiling anew cost more than the round trip the statement saves."""
    from kluis.audit.chain import _append_statement

    for events in (1, 2, 64):
        assert _append_statement(events, 2)._generate_cache_key() is not None


async def test_concurrent_writers_of_the_same_chains_wait_for_each_other(platform, db):
    """The heads are locked: writers to the same chains, in either order, each append after
    the other, and none fails on a taken sequence number or a deadlock."""
    bob = uuid.uuid4()

    async def write(subjects: list[uuid.UUID]) -> None:
        async with platform.session_maker() as session:
            await audit.record_all(session, [audit.Entry(s, "test:race", ACTOR) for s in subjects])
            await asyncio.sleep(0.01)  # hold the locks while the others queue
            await session.commit()

    await asyncio.gather(*(write([ALICE, bob] if n % 2 else [bob, ALICE]) for n in range(6)))

    report = await audit.verify(db)
    assert report.ok
    assert report.events == 12


# -- kinds: how the history groups action tags for a citizen ----------------------------

KINDS = {
    "idp": "account",
    "idp:login": "access",
    "idp:session": "access",
    "vault": "documents",
    "vault:share": "sharing",
    "vault:share:at-death": "succession",
}
TAGS = [
    "idp:login:succeeded",
    "idp:login:refused",
    "idp:session:ended",
    "idp:email:verified",
    "vault:document:uploaded",
    "vault:share:granted",
    "vault:share:at-death",
    "vault:sharer:odd",
    "acts:deed:published",
    "idp",
]


def test_kind_of_takes_the_longest_matching_key():
    assert audit.kind_of("idp:login:succeeded", KINDS) == "access"
    assert audit.kind_of("idp:email:verified", KINDS) == "account"
    assert audit.kind_of("vault:share:granted", KINDS) == "sharing"
    assert audit.kind_of("vault:share:at-death", KINDS) == "succession"


def test_keys_match_whole_parts_of_a_tag_only():
    assert audit.kind_of("vault:sharer:odd", KINDS) == "documents"  # not vault:share
    assert audit.kind_of("vaults:document:uploaded", KINDS) == audit.OTHER_KIND


def test_an_action_no_domain_claimed_is_of_the_kind_other():
    assert audit.kind_of("acts:deed:published", KINDS) == audit.OTHER_KIND


def _matches(tag: str, key: str) -> bool:
    return tag == key or tag.startswith(key + ":")


def test_kind_rules_select_exactly_the_tags_kind_of_puts_in_a_kind():
    for kind in audit.HISTORY_KINDS:
        selected = {
            tag
            for tag in TAGS
            for key, exceptions in audit.kind_rules(kind, KINDS)
            if (not key or _matches(tag, key)) and not any(_matches(tag, e) for e in exceptions)
        }
        assert selected == {tag for tag in TAGS if audit.kind_of(tag, KINDS) == kind}, kind


def test_every_domain_maps_its_actions_onto_known_kinds():
    import kluis.app  # noqa: F401 - importing the app imports every domain's registrations

    assert set(audit.ACTION_KINDS.values()) <= set(audit.HISTORY_KINDS)
    unsorted = [tag for tag in audit.ACTION_LABELS if audit.kind_of(tag) == audit.OTHER_KIND]
    assert unsorted == []


async def test_history_is_read_by_kind_in_the_database(db, monkeypatch):
    monkeypatch.setattr(audit.kinds, "ACTION_KINDS", KINDS)
    for tag in TAGS:
        await audit.record(db, subject_id=ALICE, action=tag, actor=ACTOR)
    await db.commit()

    for kind in audit.HISTORY_KINDS:
        found = {e.action for e in await audit.history_for(db, ALICE, kind=kind)}
        assert found == {tag for tag in TAGS if audit.kind_of(tag) == kind}, kind
        assert await audit.count_history(db, ALICE, kind=kind) == len(found)


async def test_history_pages_by_sequence_and_streams_everything(db):
    for n in range(7):
        await audit.record(db, subject_id=ALICE, action=f"test:event:{n}", actor=ACTOR)
    await audit.record(db, subject_id=uuid.uuid4(), action="test:event:other", actor=ACTOR)
    await db.commit()

    first = await audit.history_for(db, ALICE, limit=3)
    second = await audit.history_for(db, ALICE, before_seq=first[-1].seq, limit=3)
    streamed = [e.seq async for e in audit.stream_history(db, ALICE)]

    assert [e.seq for e in first] == [7, 6, 5]
    assert [e.seq for e in second] == [4, 3, 2]
    assert streamed == [7, 6, 5, 4, 3, 2, 1]
