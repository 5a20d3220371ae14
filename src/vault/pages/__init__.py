"""The vault's pages: documents, contacts and what others share with me."""

from vault.pages.documents import VaultPages
from vault.pages.sharing import SharingPages

__all__ = ["SharingPages", "VaultPages"]
