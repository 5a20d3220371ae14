"""Protocols for the vault's outside systems: storage locations and the malware scanner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class FragmentWriter(Protocol):
    async def write(self, data: bytes) -> None: ...

    async def flush(self) -> None:
        """Make what was written so far durable (it stays invisible until `commit`)."""
        ...

    async def commit(self) -> None:
        """Make the fragment visible under its key; until then it does not exist."""
        ...

    async def abort(self) -> None: ...


class StorageLocation(Protocol):
    """One place fragments are kept: a disk, or a bucket at one site."""

    name: str

    async def create(self, key: str) -> FragmentWriter: ...

    async def read(self, key: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset`; raises `FragmentMissing` if there is none."""
        ...

    async def delete(self, key: str) -> None: ...

    def keys(self) -> AsyncIterator[str]:
        """Every committed fragment key (for scrubbing)."""
        ...

    async def modified(self, key: str) -> float | None:
        """When the fragment was committed (seconds since the epoch), or None if absent."""
        ...

    async def sweep_incomplete(self, older_than: float) -> int:
        """Remove writes never committed (a crash mid-upload) begun before `older_than`
        (seconds since the epoch). Returns how many."""
        ...

    async def close(self) -> None:
        """Release connections (at shutdown)."""
        ...

    async def ready(self) -> bool:
        """Whether fragments can be written here now (the readiness check): a directory
        that exists and is writable, a bucket that answers. Cheap: no fragment is written."""
        ...


@runtime_checkable
class BlockingReads(Protocol):
    """A location on a local disk also reads without the event loop, straight into a
    buffer, so the engine reads the k shares of a chunk into one buffer and decrypts it in
    one worker-thread call."""

    def read_into(self, key: str, offset: int, buffer: memoryview) -> int:
        """Fill `buffer` from `offset`, blocking; returns the bytes read (fewer at the end
        of the fragment). Raises `FragmentMissing` as `StorageLocation.read` does."""
        ...


class FragmentMissing(Exception):
    """The location has no such fragment, or cannot be read right now."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str | None = None

    @property
    def unscannable(self) -> bool:
        # Limits exceeded or encrypted content: ClamAV could not look inside.
        return bool(self.signature) and self.signature.startswith(
            ("Heuristics.Limits.Exceeded", "Heuristics.Encrypted")
        )


class ScanSession(Protocol):
    async def send(self, chunk: bytes) -> None: ...

    async def verdict(self) -> Verdict: ...

    async def abort(self) -> None: ...


class Scanner(Protocol):
    name: str
    development: bool

    async def open(self) -> ScanSession:
        """Start scanning one stream; raises `ScannerUnavailable` if it cannot."""
        ...

    async def ping(self) -> bool:
        """Whether the scanner answers now (the readiness check)."""
        ...
