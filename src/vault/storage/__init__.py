"""The vault storage engine: encryption per chunk, erasure coding, storage locations."""

from vault.storage.engine import (
    DocumentUnreadable,
    DocumentWriter,
    Manifest,
    StorageEngine,
    StorageUnavailable,
    fragment_key,
)
from vault.storage.locations import LocalDirectory, location_from
from vault.storage.reader import DESTROYED, destroyed_key

__all__ = [
    "DESTROYED",
    "DocumentUnreadable",
    "DocumentWriter",
    "LocalDirectory",
    "Manifest",
    "StorageEngine",
    "StorageUnavailable",
    "destroyed_key",
    "fragment_key",
    "location_from",
]
