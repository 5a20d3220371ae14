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

__all__ = [
    "DocumentUnreadable",
    "DocumentWriter",
    "LocalDirectory",
    "Manifest",
    "StorageEngine",
    "StorageUnavailable",
    "fragment_key",
    "location_from",
]
