"""Acts: the notary register, office vaults, the deed registry, dossiers, messages and
questionnaires."""

from acts.access import (
    Membership,
    OfficeAccess,
    OfficeSoftware,
    RegistryClient,
    caller_actor,
    registry_client_of,
)
from acts.domain import nrn_digits
from acts.models import NotaryOffice, OfficeMember
from acts.office_vault import OfficeVault
from acts.seals import Seals
from acts.services import NotaryRegister

__all__ = [
    "Membership",
    "NotaryOffice",
    "NotaryRegister",
    "OfficeAccess",
    "OfficeMember",
    "OfficeSoftware",
    "OfficeVault",
    "RegistryClient",
    "Seals",
    "caller_actor",
    "nrn_digits",
    "registry_client_of",
]
