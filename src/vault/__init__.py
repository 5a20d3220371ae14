"""The vault: documents, the storage engine, malware scanning, contacts and shares."""

from __future__ import annotations

from kluis.hooks import Hooks
from kluis.keys import KeyProvider
from kluis.settings import Settings
from vault.interfaces import Scanner
from vault.models import Document
from vault.scanner import scanner_from
from vault.services import Contacts, Destruction, Documents, Holder, Shares
from vault.storage import StorageEngine, location_from


def build_documents(
    settings: Settings, keys: KeyProvider, hooks: Hooks, scanner: Scanner | None = None
) -> Documents:
    """The vault's documents service over the configured locations and scanner."""
    vault = settings.vault
    locations = [location_from(i, config, settings) for i, config in enumerate(vault.locations)]
    engine = StorageEngine(locations, vault.fragments_needed, vault.chunk_bytes)
    return Documents(settings, keys, engine, scanner or scanner_from(settings), hooks)


__all__ = [
    "Contacts",
    "Destruction",
    "Document",
    "Documents",
    "Holder",
    "Shares",
    "build_documents",
]
