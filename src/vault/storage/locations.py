"""Storage locations. A local directory stands for a disk; an S3 bucket (s3.py) for a site.

Fragments hold only ciphertext. A fragment is written under a temporary name and renamed
when complete, so a crash leaves at worst a `.partial` file that scrubbing removes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

from kluis.settings import LocationSettings, Settings
from vault.interfaces import FragmentMissing, StorageLocation

PARTIAL = ".partial"


class LocalFragmentWriter:
    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(final.name + PARTIAL)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.file: BinaryIO = open(self.partial, "wb")

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self.file.write, data)

    def _sync(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())

    async def flush(self) -> None:
        await asyncio.to_thread(self._sync)

    async def commit(self) -> None:
        def finish() -> None:
            self._sync()  # quick if `flush` ran while clamd was scanning
            self.file.close()
            os.replace(self.partial, self.final)

        await asyncio.to_thread(finish)

    async def abort(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)


class LocalDirectory:
    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    def _path(self, key: str) -> Path:
        # Two levels of fan-out keep directories small.
        return self.root / key[:2] / key[2:4] / key

    async def create(self, key: str) -> LocalFragmentWriter:
        return await asyncio.to_thread(LocalFragmentWriter, self._path(key))

    @contextlib.contextmanager
    def _opened(self, key: str) -> Iterator[int]:
        try:
            fd = os.open(self._path(key), os.O_RDONLY)
            try:
                yield fd
            finally:
                os.close(fd)
        except OSError as exc:
            raise FragmentMissing(f"{self.name}: {key}") from exc

    def read_into(self, key: str, offset: int, buffer: memoryview) -> int:
        with self._opened(key) as fd:
            return os.preadv(fd, [buffer], offset)

    async def read(self, key: str, offset: int, length: int) -> bytes:
        def read() -> bytes:
            with self._opened(key) as fd:
                return os.pread(fd, length, offset)

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, True)

    async def keys(self) -> AsyncIterator[str]:
        for path in await asyncio.to_thread(lambda: sorted(self.root.glob("??/??/*"))):
            if not path.name.endswith(PARTIAL):
                yield path.name

    async def modified(self, key: str) -> float | None:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_mtime
        except OSError:
            return None

    async def sweep_incomplete(self, older_than: float) -> int:
        def sweep() -> int:
            removed = 0
            for path in self.root.glob(f"??/??/*{PARTIAL}"):
                if path.stat().st_mtime < older_than:
                    path.unlink(missing_ok=True)
                    removed += 1
            return removed

        return await asyncio.to_thread(sweep)

    async def close(self) -> None:
        return None

    async def ready(self) -> bool:
        # A missing directory is a disk not mounted (or a location removed): not ready,
        # although a write would create it.
        root = self.root
        return await asyncio.to_thread(lambda: root.is_dir() and os.access(root, os.W_OK))


def location_from(index: int, config: LocationSettings, settings: Settings) -> StorageLocation:
    if config.kind == "local":
        root = settings.path(config.path or f"{settings.data_dir}/locations/{index + 1}")
        return LocalDirectory(f"local-{index + 1}", root)
    if config.kind == "s3":
        from vault.storage.s3 import S3Location  # imported only when a site is a bucket

        return S3Location.from_settings(f"s3-{index + 1}", config)
    raise ValueError(f"unknown location kind {config.kind!r}")
