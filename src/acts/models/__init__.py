"""Tables of the acts domain: the notary register and office vaults, the deed registry,
companies, dossiers (with their documents, messages and read marks), questionnaires, and the
offices' own software as API clients."""

from acts.models.clients import OfficeApiAssertion, OfficeApiClient, OfficeApiToken
from acts.models.companies import Company, CompanyMember
from acts.models.deeds import Deed, DeedParty
from acts.models.dossiers import (
    Dossier,
    DossierClient,
    DossierDocument,
    DossierMessage,
    DossierRead,
    MessageAttachment,
)
from acts.models.questionnaires import Questionnaire
from acts.models.register import NotaryOffice, OfficeExchange, OfficeMember, OfficeSealKey

__all__ = [
    "Company",
    "CompanyMember",
    "Deed",
    "DeedParty",
    "Dossier",
    "DossierClient",
    "DossierDocument",
    "DossierMessage",
    "DossierRead",
    "MessageAttachment",
    "NotaryOffice",
    "OfficeApiAssertion",
    "OfficeApiClient",
    "OfficeApiToken",
    "OfficeExchange",
    "OfficeMember",
    "OfficeSealKey",
    "Questionnaire",
]
