"""The history's hash chain detects every kind of tampering."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update

from kluis import audit
from kluis.audit import Actor, HistoryEvent, HistoryHead

ALICE = uuid.uuid4()
ACTOR = Actor(label="Alice", ip="127.0.0.1")


async def three_events(db) -> list[HistoryEvent]:
    events = [
        await audit.record(db, subject_id=ALICE, action=f"test:event:{n}", actor=ACTOR)
        for n in range(3)
    ]
    await db.commit()
    return events


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


async def test_verify_one_subject(db):
    await three_events(db)
    head = await db.scalar(select(HistoryHead).where(HistoryHead.subject_id == ALICE))
    assert head.seq == 3
    assert await audit.chain_intact(db, ALICE)
