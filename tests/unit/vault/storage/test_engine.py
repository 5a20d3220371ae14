"""The storage engine: round trips, ranges, and surviving the loss of a location."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

from vault.storage import DocumentUnreadable, LocalDirectory, StorageEngine, crypto
from vault.storage.fragments import BLOCK_HEADER, HEADER

CHUNK = 64 * 1024


@pytest.fixture
def engine(tmp_path) -> StorageEngine:
    return StorageEngine([LocalDirectory(f"l{i}", tmp_path / f"l{i}") for i in range(3)], 2, CHUNK)


async def store(engine: StorageEngine, data: bytes):
    document_id, key = uuid.uuid4(), crypto.new_data_key()
    writer = await engine.writer(document_id, key)
    pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    for n, piece in enumerate(pieces):
        await writer.write(piece, last=n == len(pieces) - 1)
    return document_id, key, await writer.commit()


async def read(engine, manifest, document_id, key, start=0, end=None) -> bytes:
    return b"".join([c async for c in engine.read(manifest, document_id, key, start, end)])


def fragment_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_round_trip(engine):
    data = os.urandom(3 * CHUNK + 123)
    document_id, key, manifest = await store(engine, data)
    assert manifest.chunk_count == 4
    assert await read(engine, manifest, document_id, key) == data


async def test_fragments_hold_no_plaintext_and_less_than_the_whole(engine, tmp_path):
    data = b"Testament van Jan Peeters. " * 5000
    await store(engine, data)
    for path in fragment_files(tmp_path):
        content = path.read_bytes()
        assert b"Testament" not in content
        assert len(content) < 0.6 * len(data)  # 2-of-3: each fragment about half


@pytest.mark.parametrize(("start", "end"), [(0, 0), (10, CHUNK + 10), (CHUNK, 2 * CHUNK - 1)])
async def test_ranges(engine, start, end):
    data = os.urandom(2 * CHUNK + 7)
    document_id, key, manifest = await store(engine, data)
    assert await read(engine, manifest, document_id, key, start, end) == data[start : end + 1]


@pytest.mark.parametrize("lost", [0, 1, 2])
async def test_any_one_location_may_be_lost(engine, tmp_path, lost):
    data = os.urandom(2 * CHUNK + 5)
    document_id, key, manifest = await store(engine, data)
    shutil.rmtree(tmp_path / f"l{lost}")
    assert await read(engine, manifest, document_id, key) == data


@pytest.mark.parametrize(
    "where",
    [
        BLOCK_HEADER.size + 100,  # the share's content
        BLOCK_HEADER.size + 10,  # the erasure code's own fragment header
        1,  # the block's length
        5,  # the block's checksum
    ],
)
@pytest.mark.parametrize("fragment", [0, 2])  # a data share, the parity share
async def test_a_flipped_byte_is_detected_and_served_from_the_others(
    engine, tmp_path, where, fragment
):
    data = os.urandom(2 * CHUNK)
    document_id, key, manifest = await store(engine, data)
    path = fragment_files(tmp_path / f"l{fragment}")[0]
    raw = bytearray(path.read_bytes())
    raw[HEADER.size + where] ^= 0x01
    path.write_bytes(bytes(raw))
    assert await read(engine, manifest, document_id, key) == data


async def test_shares_swapped_between_fragments_are_not_trusted(engine, tmp_path):
    # Each share checks out on its own, but fragment 0 now holds fragment 1's share.
    data = os.urandom(CHUNK)
    document_id, key, manifest = await store(engine, data)
    first, second = (fragment_files(tmp_path / f"l{i}")[0] for i in (0, 1))
    first.write_bytes(second.read_bytes())
    assert await read(engine, manifest, document_id, key) == data


async def test_two_lost_locations_make_the_document_unreadable(engine, tmp_path):
    document_id, key, manifest = await store(engine, os.urandom(CHUNK))
    shutil.rmtree(tmp_path / "l0")
    shutil.rmtree(tmp_path / "l1")
    with pytest.raises(DocumentUnreadable):
        await read(engine, manifest, document_id, key)


async def test_chunks_are_bound_to_their_document(engine, tmp_path):
    # Another document's key and id cannot open these fragments.
    document_id, key, manifest = await store(engine, os.urandom(CHUNK))
    with pytest.raises(DocumentUnreadable):
        await read(engine, manifest, uuid.uuid4(), key)
    with pytest.raises(DocumentUnreadable):
        await read(engine, manifest, document_id, crypto.new_data_key())


async def test_delete_removes_every_fragment(engine, tmp_path):
    document_id, _key, _manifest = await store(engine, os.urandom(CHUNK))
    await engine.delete(document_id)
    assert fragment_files(tmp_path) == []


async def test_a_marker_a_location_cannot_take_is_logged_and_the_rest_destroyed(
    engine, tmp_path, caplog
):
    document_id, _key, _manifest = await store(engine, os.urandom(CHUNK))
    shutil.rmtree(tmp_path / "l1")
    (tmp_path / "l1").write_text("not a directory")  # a location that takes nothing
    await engine.destroy(document_id)
    assert "no destruction marker at l1" in caplog.text
    for location in ("l0", "l2"):
        assert [p.name for p in fragment_files(tmp_path / location)] == [
            f"{document_id.hex}.destroyed"
        ]
