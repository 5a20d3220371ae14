"""The dossiers' services, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from acts.dossiers.access import DossierAccess
from acts.dossiers.companies import Companies
from acts.dossiers.dossiers import Dossiers
from acts.dossiers.files import DossierFiles
from acts.dossiers.messages import Messages
from acts.seals import Seals
from idp_bridge.notifications import Notifications
from kluis.keys import KeyProvider
from vault import Documents


@dataclass(frozen=True)
class DossierServices:
    dossiers: Dossiers
    files: DossierFiles
    messages: Messages
    companies: Companies


def build_dossiers(
    keys: KeyProvider,
    access: DossierAccess,
    documents: Documents,
    seals: Seals,
    notifications: Notifications,
) -> DossierServices:
    companies = Companies(keys)
    dossiers = Dossiers(keys, access, companies, notifications)
    return DossierServices(
        dossiers=dossiers,
        files=DossierFiles(dossiers, documents, seals),
        messages=Messages(keys, dossiers, documents, seals),
        companies=companies,
    )
