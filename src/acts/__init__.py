"""Acts: the notary register, office vaults, the deed registry, dossiers, messages and
questionnaires."""

from acts.models import NotaryOffice, OfficeMember
from acts.office_vault import OfficeVault
from acts.seals import Seals
from acts.services import NotaryRegister

__all__ = ["NotaryOffice", "NotaryRegister", "OfficeMember", "OfficeVault", "Seals"]
