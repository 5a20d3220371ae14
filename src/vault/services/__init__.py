"""Use cases of the vault: documents, contacts and shares."""

from vault.services.contacts import Contacts
from vault.services.destruction import Destruction
from vault.services.documents import Documents, Holder, manifest_of
from vault.services.shares import Shares

__all__ = ["Contacts", "Destruction", "Documents", "Holder", "Shares", "manifest_of"]
