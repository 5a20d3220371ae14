"""HTTP for the vault: documents, contacts and shares."""

from vault.routes.documents import DocumentController, document_out, download
from vault.routes.sharing import ContactController, ShareController

__all__ = ["ContactController", "DocumentController", "ShareController", "document_out", "download"]
