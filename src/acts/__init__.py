"""Acts: the notary register, the deed registry, dossiers, messages and questionnaires."""

from acts.models import NotaryOffice, OfficeMember
from acts.services import NotaryRegister

__all__ = ["NotaryOffice", "NotaryRegister", "OfficeMember"]
