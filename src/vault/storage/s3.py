"""An S3-compatible bucket as a storage location: one bucket per site.

A fragment is streamed to the bucket as a multipart upload: blocks are gathered into parts
of `part_bytes` (8 MiB; S3 wants at least 5 MiB for every part but the last), each part is
sent as soon as it is full, and the object appears only when `commit()` completes the
upload. `abort()` aborts it, so no parts are left behind; a fragment that never filled one
part is sent whole by a single PutObject at commit. Memory therefore holds at most one part
(plus the block that filled it) per fragment being written, whatever the document's size.

Client library: aiobotocore. It is maintained (aio-libs), speaks S3 through botocore's own
request signing, retries and error model, and is natively asyncio (aiohttp). The
alternative, boto3 in `asyncio.to_thread`, would park a worker of the default executor on
every request; that executor also runs the engine's encryption and erasure coding and the
local locations, so a slow or unreachable site would stall every upload on the machine.
The price: aiobotocore pins botocore to a narrow range (never pin boto3/botocore next to
it), and its client belongs to one event loop and should be closed (`close()`).

Errors: while writing, any client or connection error becomes `LocationUnavailable`, an
`OSError`, which the engine turns into a clean 503; while reading, it becomes
`FragmentMissing`, and the engine reads that block from another site.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from vault.interfaces import FragmentMissing

if TYPE_CHECKING:
    from kluis.settings import LocationSettings

log = logging.getLogger(__name__)

MIN_PART_BYTES = 5 * 1024**2  # S3's floor for every part of a multipart upload but the last
PART_BYTES = 8 * 1024**2
CONTENT_TYPE = "application/octet-stream"

# Everything the client or the network can raise for one request (timeouts are OSError).
CLIENT_ERRORS: tuple[type[BaseException], ...] = (
    ClientError,
    BotoCoreError,
    aiohttp.ClientError,
    OSError,
)
NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


class LocationUnavailable(OSError):
    """An S3 location refused or could not take a request (bucket gone, access denied,
    connection refused, timeout)."""


def _code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class S3FragmentWriter:
    """One fragment on its way into the bucket; invisible until `commit()`."""

    def __init__(self, location: S3Location, key: str) -> None:
        self.location = location
        self.key = key
        # A BytesIO, not bytes: aiohttp then sends it in slices as the socket drains,
        # without a second copy in the transport's buffer.
        self.buffer = io.BytesIO()
        self.high_water = 0  # the largest the buffer has been (memory stays bounded)
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.done = False
        self.broken = False  # a part failed or was cancelled on its way: never commit

    def _unavailable(self, operation: str, exc: BaseException) -> LocationUnavailable:
        return LocationUnavailable(f"{self.location.name}: {operation} {self.key}: {exc}")

    async def write(self, data: bytes) -> None:
        if self.done or self.broken:
            raise LocationUnavailable(f"{self.location.name}: {self.key} cannot be written")
        self.buffer.write(data)
        self.high_water = max(self.high_water, self.buffered)
        if self.buffered >= self.location.part_bytes:
            await self._send_part()

    @property
    def buffered(self) -> int:
        return self.buffer.tell()

    async def _send_part(self) -> None:
        # Hand the buffer over rather than copy it: one part in memory, not two.
        part, self.buffer = self.buffer, io.BytesIO()
        part.seek(0)
        self.broken = True
        try:
            s3 = await self.location.client()
            if self.upload_id is None:
                started = await s3.create_multipart_upload(
                    Bucket=self.location.bucket, Key=self.key, ContentType=CONTENT_TYPE
                )
                self.upload_id = started["UploadId"]
            number = len(self.parts) + 1
            sent = await s3.upload_part(
                Bucket=self.location.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=part,
            )
        except CLIENT_ERRORS as exc:
            raise self._unavailable("upload part of", exc) from exc
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})
        self.broken = False

    async def flush(self) -> None:
        """Parts already sent are durable; the rest is sent at commit, which S3 makes atomic."""
        return None

    async def commit(self) -> None:
        if self.done or self.broken:
            await self.abort()
            raise LocationUnavailable(f"{self.location.name}: {self.key} cannot be committed")
        bucket = self.location.bucket
        try:
            s3 = await self.location.client()
            if self.upload_id is None:
                body, self.buffer = self.buffer, io.BytesIO()
                body.seek(0)
                await s3.put_object(
                    Bucket=bucket, Key=self.key, Body=body, ContentType=CONTENT_TYPE
                )
            else:
                if self.buffered:
                    await self._send_part()
                await s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self.key,
                    UploadId=self.upload_id,
                    MultipartUpload={"Parts": self.parts},
                )
        except LocationUnavailable:
            await self.abort()
            raise
        except CLIENT_ERRORS as exc:
            await self.abort()
            raise self._unavailable("commit", exc) from exc
        self.done, self.upload_id = True, None

    async def abort(self) -> None:
        """Drop what was sent. Never raises: a failed abort leaves an incomplete upload
        that `sweep_incomplete` removes later."""
        self.done = True
        self.buffer = io.BytesIO()
        upload_id, self.upload_id = self.upload_id, None
        if upload_id is None:
            return
        try:
            s3 = await self.location.client()
            await s3.abort_multipart_upload(
                Bucket=self.location.bucket, Key=self.key, UploadId=upload_id
            )
        except CLIENT_ERRORS as exc:
            log.warning(
                "%s: could not abort the upload of %s: %s", self.location.name, self.key, exc
            )


class S3Location:
    """A bucket at one site, reached through any S3-compatible endpoint."""

    # Requests are retried (throttling, 5xx, dropped connections) but a dead site must
    # fail quickly: the engine reads from another site when one raises FragmentMissing.
    connect_timeout = 3.0
    read_timeout = 30.0
    max_attempts = 3
    list_page_size = 1000

    def __init__(
        self,
        name: str,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        part_bytes: int = PART_BYTES,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES} (S3's minimum)")
        self.name = name
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or "us-east-1"
        # None: botocore's usual chain (AWS_* variables, shared files, instance role).
        self.access_key_id = access_key_id or None
        self.secret_access_key = secret_access_key or None
        self.part_bytes = part_bytes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._client: Any = None
        self._stack: AsyncExitStack | None = None

    @classmethod
    def from_settings(cls, name: str, config: LocationSettings) -> S3Location:
        return cls(
            name,
            config.bucket,
            endpoint_url=config.endpoint_url,
            region=config.region,
            access_key_id=config.access_key_id,
            secret_access_key=config.secret_access_key,
        )

    def __repr__(self) -> str:  # never the credentials
        return f"S3Location({self.name!r}, bucket={self.bucket!r}, endpoint={self.endpoint_url!r})"

    def _config(self) -> AioConfig:
        return AioConfig(
            region_name=self.region,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            max_pool_connections=50,
            # Other S3 implementations (MinIO, Ceph, Garage…) want path-style addresses.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            # Checksums only where the API demands them: not every S3-compatible server
            # takes the newer CRC trailers, and every block carries its own checksum anyway.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            warm_up_loader_caches=True,  # load the service model in a thread, not the loop
        )

    async def client(self) -> Any:
        """The S3 client for the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A client belongs to the loop it was made in; a new loop gets its own.
            self._loop, self._lock, self._client, self._stack = loop, asyncio.Lock(), None, None
        assert self._lock is not None
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        aws_access_key_id=self.access_key_id,
                        aws_secret_access_key=self.secret_access_key,
                        config=self._config(),
                    )
                )
                self._stack = stack
            return self._client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None and self._loop is asyncio.get_running_loop():
            await stack.aclose()

    async def ready(self) -> bool:
        """HeadBucket: the site answers, the bucket is there and the key may use it."""
        try:
            s3 = await self.client()
            await s3.head_bucket(Bucket=self.bucket)
        except CLIENT_ERRORS as exc:
            log.warning("%s: not ready: %s", self.name, exc)
            return False
        return True

    async def create(self, key: str) -> S3FragmentWriter:
        try:
            await self.client()
        except CLIENT_ERRORS as exc:
            raise LocationUnavailable(f"{self.name}: {exc}") from exc
        return S3FragmentWriter(self, key)

    async def read(self, key: str, offset: int, length: int) -> bytes:
        try:
            s3 = await self.client()
            if length <= 0:
                await s3.head_object(Bucket=self.bucket, Key=key)
                return b""
            try:
                found = await s3.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
                )
            except ClientError as exc:
                if _code(exc) != "InvalidRange":
                    raise
                # At or past the end of the fragment: nothing, as a file would read.
                await s3.head_object(Bucket=self.bucket, Key=key)
                return b""
            async with found["Body"] as body:
                data = await body.read()
        except CLIENT_ERRORS as exc:
            raise FragmentMissing(f"{self.name}: {key}: {exc}") from exc
        if not found.get("ContentRange"):  # a server that ignored the range sent it all
            data = data[offset : offset + length]
        return data

    async def delete(self, key: str) -> None:
        # DeleteObject succeeds for a key that is not there: deleting twice is fine.
        try:
            s3 = await self.client()
            await s3.delete_object(Bucket=self.bucket, Key=key)
        except CLIENT_ERRORS as exc:
            raise LocationUnavailable(f"{self.name}: delete {key}: {exc}") from exc

    async def keys(self) -> AsyncIterator[str]:
        # Only completed uploads are objects, so every key listed is committed.
        try:
            s3 = await self.client()
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, PaginationConfig={"PageSize": self.list_page_size}
            )
            async for page in pages:
                for entry in page.get("Contents", ()):
                    yield entry["Key"]
        except CLIENT_ERRORS as exc:
            raise LocationUnavailable(f"{self.name}: list: {exc}") from exc

    async def modified(self, key: str) -> float | None:
        try:
            s3 = await self.client()
            head = await s3.head_object(Bucket=self.bucket, Key=key)
        except CLIENT_ERRORS:
            return None
        return head["LastModified"].timestamp()

    async def sweep_incomplete(self, older_than: float) -> int:
        """Abort multipart uploads begun before `older_than` and never completed (a crash
        mid-upload). Returns how many."""
        removed = 0
        try:
            s3 = await self.client()
            pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
            async for page in pages:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() >= older_than:
                        continue
                    try:
                        await s3.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                    except ClientError as exc:
                        if _code(exc) not in NOT_FOUND:  # aborted meanwhile: fine
                            raise
                    removed += 1
        except CLIENT_ERRORS as exc:
            raise LocationUnavailable(f"{self.name}: sweep: {exc}") from exc
        return removed


__all__ = ["PART_BYTES", "LocationUnavailable", "S3FragmentWriter", "S3Location"]
