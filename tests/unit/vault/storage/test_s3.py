"""Storage locations against their contract, and the S3 location against a real S3 server.

The same scenarios run on a local directory and on a bucket served by moto's standalone
S3 server on loopback (no network beyond 127.0.0.1). Then what only S3 has: fragments
streamed in multipart parts with bounded memory, errors while writing surfacing as
`OSError` (the engine's 503), a stopped server read as `FragmentMissing`, and the engine
over three buckets standing in for three sites.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from moto.server import ThreadedMotoServer

from kluis.settings import LocationSettings, load_settings
from tests.support.net import free_port
from vault.interfaces import FragmentMissing, StorageLocation
from vault.storage import LocalDirectory, StorageEngine, StorageUnavailable, crypto, location_from
from vault.storage.s3 import MIN_PART_BYTES, PART_BYTES, S3Location

BLOCK = 512 * 1024  # what the engine writes at a time with 1 MiB chunks and k = 2
KEY_ID, SECRET = "testing", "testing"


def start_server() -> tuple[ThreadedMotoServer, str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    server, url = start_server()
    yield url
    server.stop()


def s3_location(endpoint: str, bucket: str, **kwargs) -> S3Location:
    return S3Location(
        f"s3-{bucket}",
        bucket,
        endpoint_url=endpoint,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        **kwargs,
    )


def bucket_name() -> str:
    return f"site-{uuid.uuid4().hex[:12]}"


async def new_bucket(endpoint: str, **kwargs) -> S3Location:
    location = s3_location(endpoint, bucket_name(), **kwargs)
    await (await location.client()).create_bucket(Bucket=location.bucket)
    return location


@pytest.fixture
async def bucket(endpoint) -> AsyncIterator[S3Location]:
    location = await new_bucket(endpoint)
    yield location
    await location.close()


@pytest.fixture(params=["local", "s3"])
async def location(request, tmp_path, endpoint) -> AsyncIterator[StorageLocation]:
    if request.param == "local":
        yield LocalDirectory("local", tmp_path / "location")
        return
    # The smallest part S3 allows, so the contract also covers a multipart upload.
    found = await new_bucket(endpoint, part_bytes=MIN_PART_BYTES)
    yield found
    await found.close()


def new_key() -> str:
    return f"{uuid.uuid4().hex}.0"


def blocks_of(data: bytes, size: int = BLOCK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def put(location: StorageLocation, key: str, data: bytes, size: int = BLOCK) -> None:
    writer = await location.create(key)
    for block in blocks_of(data, size):
        await writer.write(block)
    await writer.commit()


async def listed(location: StorageLocation) -> set[str]:
    return {key async for key in location.keys()}


async def uploads_in_progress(location: S3Location) -> list[dict]:
    found = await (await location.client()).list_multipart_uploads(Bucket=location.bucket)
    return found.get("Uploads", [])


# The contract: the same scenarios on a local directory and on a bucket.


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, 5 * BLOCK + 17, MIN_PART_BYTES + 3 * BLOCK])
async def test_blocks_written_in_order_read_back_at_any_range(location, size):
    data = os.urandom(size)
    key = new_key()
    await put(location, key, data, size=BLOCK - 3)  # blocks not aligned with anything
    assert await location.read(key, 0, size + 10) == data  # the whole, even when empty
    ranges = [(0, 1), (0, size), (size // 3, BLOCK), (size - 5, 5), (BLOCK - 10, 20)]
    for offset, length in ranges:
        offset = max(offset, 0)
        if offset >= size or length <= 0:
            continue
        assert await location.read(key, offset, length) == data[offset : offset + length]


async def test_a_read_past_the_end_is_short(location):
    data = os.urandom(1000)
    key = new_key()
    await put(location, key, data)
    assert await location.read(key, 900, 500) == data[900:]


async def test_abort_leaves_no_fragment(location):
    key = new_key()
    writer = await location.create(key)
    for block in blocks_of(os.urandom(MIN_PART_BYTES + 2 * BLOCK)):
        await writer.write(block)
    await writer.abort()
    assert key not in await listed(location)
    with pytest.raises(FragmentMissing):
        await location.read(key, 0, 10)
    if isinstance(location, S3Location):
        assert await uploads_in_progress(location) == []


@pytest.mark.parametrize("size", [BLOCK, MIN_PART_BYTES + BLOCK])
async def test_a_fragment_being_written_is_neither_listed_nor_readable(location, size):
    key = new_key()
    data = os.urandom(size)
    writer = await location.create(key)
    for block in blocks_of(data):
        await writer.write(block)
    assert key not in await listed(location)
    with pytest.raises(FragmentMissing):
        await location.read(key, 0, 10)
    assert await location.modified(key) is None
    await writer.commit()
    assert key in await listed(location)
    assert await location.read(key, 0, 10) == data[:10]


async def test_delete_then_read_is_missing_and_delete_is_idempotent(location):
    key = new_key()
    await put(location, key, os.urandom(3 * BLOCK))
    await location.delete(key)
    with pytest.raises(FragmentMissing):
        await location.read(key, 0, 10)
    assert key not in await listed(location)
    await location.delete(key)
    await location.delete(new_key())  # never there


async def test_keys_lists_exactly_the_committed_keys(location):
    committed = {new_key() for _ in range(4)}
    for key in committed:
        await put(location, key, os.urandom(100))
    pending = await location.create(new_key())
    await pending.write(b"not yet")
    aborted = await location.create(new_key())
    await aborted.write(b"never")
    await aborted.abort()
    assert await listed(location) == committed
    await pending.abort()


async def test_a_missing_fragment_is_missing(location):
    with pytest.raises(FragmentMissing):
        await location.read(new_key(), 0, 10)


async def test_modified_is_the_commit_time(location):
    key = new_key()
    before = time.time()
    await put(location, key, b"fragment")
    modified = await location.modified(key)
    assert modified is not None
    assert before - 5 <= modified <= time.time() + 5
    assert await location.modified(new_key()) is None


async def test_sweep_removes_only_old_incomplete_writes(location):
    key = new_key()
    writer = await location.create(key)
    for block in blocks_of(os.urandom(MIN_PART_BYTES + BLOCK)):
        await writer.write(block)
    # moto reports every multipart upload as begun on 2010-11-10, so against it only a
    # cutoff before that shows the age is looked at; a real server gives the true time.
    recent = 0.0 if isinstance(location, S3Location) else time.time() - 3600
    assert await location.sweep_incomplete(recent) == 0  # still in progress
    assert await location.sweep_incomplete(time.time() + 3600) == 1
    await writer.abort()  # after the sweep: nothing left to abort, and no error
    assert key not in await listed(location)
    with pytest.raises(FragmentMissing):
        await location.read(key, 0, 10)


# S3 only.


async def test_a_large_fragment_streams_in_parts_with_bounded_memory(bucket):
    data = os.urandom(20 * 1024**2)
    key = new_key()
    writer = await bucket.create(key)
    for n, block in enumerate(blocks_of(data), start=1):
        await writer.write(block)
        assert writer.buffered < PART_BYTES
        if n * BLOCK == 9 * 1024**2:  # one part sent, the object not there yet
            assert [u["Key"] for u in await uploads_in_progress(bucket)] == [key]
            assert key not in await listed(bucket)
            with pytest.raises(FragmentMissing):
                await bucket.read(key, 0, 10)
    await writer.commit()
    assert writer.high_water <= PART_BYTES + BLOCK
    assert len(writer.parts) == 3  # 8 + 8 + 4 MiB
    head = await (await bucket.client()).head_object(Bucket=bucket.bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")
    assert await uploads_in_progress(bucket) == []
    for offset in (0, PART_BYTES - 7, 2 * PART_BYTES - BLOCK, len(data) - BLOCK):
        assert await bucket.read(key, offset, BLOCK) == data[offset : offset + BLOCK]


async def test_aborting_a_multipart_upload_leaves_no_parts(bucket):
    writer = await bucket.create(new_key())
    for block in blocks_of(os.urandom(PART_BYTES + 2 * BLOCK)):
        await writer.write(block)
    assert len(await uploads_in_progress(bucket)) == 1
    await writer.abort()
    assert await uploads_in_progress(bucket) == []
    assert await listed(bucket) == set()


async def test_keys_pages_through_a_long_listing(bucket):
    bucket.list_page_size = 2
    committed = {new_key() for _ in range(5)}
    for key in committed:
        await put(bucket, key, b"x")
    assert await listed(bucket) == committed


@pytest.mark.parametrize("size", [BLOCK, PART_BYTES + BLOCK])
async def test_writing_to_a_bucket_that_does_not_exist_raises_oserror(endpoint, size):
    location = s3_location(endpoint, bucket_name())
    with pytest.raises(OSError, match="NoSuchBucket"):
        writer = await location.create(new_key())
        for block in blocks_of(os.urandom(size)):
            await writer.write(block)
        await writer.commit()
    await location.close()


async def test_an_unreachable_server_raises_oserror_when_writing(endpoint):
    location = s3_location(f"http://127.0.0.1:{free_port()}", "site-gone")
    writer = await location.create(new_key())
    await writer.write(b"ciphertext")
    with pytest.raises(OSError):
        await writer.commit()
    with pytest.raises(OSError):
        await location.delete(new_key())
    await location.close()


async def test_a_stopped_server_reads_as_missing():
    server, url = start_server()
    location = await new_bucket(url)
    key = new_key()
    await put(location, key, os.urandom(3 * BLOCK))
    assert len(await location.read(key, BLOCK, BLOCK)) == BLOCK
    server.stop()
    started = time.monotonic()
    with pytest.raises(FragmentMissing):
        await location.read(key, BLOCK, BLOCK)
    assert time.monotonic() - started < 15  # a dead site fails fast; the engine reads elsewhere
    assert await location.modified(key) is None
    with pytest.raises(OSError):
        await listed(location)
    await location.close()


async def test_location_from_settings_gives_a_working_bucket(endpoint, bucket):
    config = LocationSettings(
        kind="s3",
        endpoint_url=endpoint,
        bucket=bucket.bucket,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
    )
    location = location_from(1, config, load_settings(environ={"KLUIS_ENV": "test"}))
    assert isinstance(location, S3Location)
    assert location.name == "s3-2"
    assert SECRET not in repr(location)
    key = new_key()
    await put(location, key, b"through the settings")
    assert await bucket.read(key, 0, 100) == b"through the settings"
    await location.close()


def test_an_s3_location_needs_a_bucket():
    import msgspec

    with pytest.raises(msgspec.ValidationError, match="bucket"):
        msgspec.convert({"kind": "s3"}, LocationSettings)


# The engine over three buckets, standing in for three sites.

CHUNK = 1024**2


@pytest.fixture
async def sites(endpoint) -> AsyncIterator[list[S3Location]]:
    locations = [await new_bucket(endpoint) for _ in range(3)]
    yield locations
    for location in locations:
        await location.close()


async def store(engine: StorageEngine, data: bytes):
    document_id, data_key = uuid.uuid4(), crypto.new_data_key()
    writer = await engine.writer(document_id, data_key)
    pieces = blocks_of(data, CHUNK) or [b""]
    for n, piece in enumerate(pieces):
        await writer.write(piece, last=n == len(pieces) - 1)
    return document_id, data_key, await writer.commit()


async def read_all(engine, manifest, document_id, data_key, start=0, end=None) -> bytes:
    chunks = engine.read(manifest, document_id, data_key, start, end)
    return b"".join([chunk async for chunk in chunks])


@pytest.mark.parametrize("size", [3 * CHUNK + 123, 20 * CHUNK])  # 20 MiB: multipart fragments
@pytest.mark.parametrize("lost", [0, 2])
async def test_the_engine_survives_losing_one_site(sites, size, lost):
    engine = StorageEngine(sites, 2, CHUNK)
    data = os.urandom(size)
    document_id, data_key, manifest = await store(engine, data)
    for location in sites:
        assert len(await listed(location)) == 1
    gone = sites[lost]
    for key in await listed(gone):
        await gone.delete(key)
    assert await listed(gone) == set()
    assert await read_all(engine, manifest, document_id, data_key) == data
    start, end = CHUNK - 10, 2 * CHUNK + 10
    assert (
        await read_all(engine, manifest, document_id, data_key, start, end) == data[start : end + 1]
    )


async def test_the_engine_reports_a_missing_bucket_as_storage_unavailable(sites, endpoint):
    gone = s3_location(endpoint, bucket_name())
    engine = StorageEngine([*sites[:2], gone], 2, CHUNK)
    with pytest.raises(StorageUnavailable):
        await store(engine, os.urandom(CHUNK + 1))
    await gone.close()
    for location in sites[:2]:  # the fragments already committed elsewhere are removed
        assert await listed(location) == set()
        assert await uploads_in_progress(location) == []


# Readiness: can fragments be written here now?


async def test_a_local_directory_is_ready_when_it_exists_and_is_writable(tmp_path):
    location = LocalDirectory("local-1", tmp_path / "disk")
    assert not await location.ready()  # not mounted, or removed
    (tmp_path / "disk").mkdir()
    assert await location.ready()
    (tmp_path / "disk").rmdir()
    (tmp_path / "disk").write_bytes(b"a file, not a directory")
    assert not await location.ready()


async def test_a_bucket_is_ready_when_it_answers(endpoint, bucket):
    assert await bucket.ready()
    missing = s3_location(endpoint, bucket_name())
    assert not await missing.ready()
    await missing.close()


async def test_a_stopped_site_is_not_ready():
    server, url = start_server()
    location = await new_bucket(url)
    assert await location.ready()
    server.stop()
    assert not await location.ready()
    await location.close()
