"""Client dossiers: the office's file shared with its clients, with documents per tab,
messages, read marks and questionnaires."""

from acts.dossiers.access import DossierAccess, DossierNotFound, DossierSide, visible_to_client

__all__ = ["DossierAccess", "DossierNotFound", "DossierSide", "visible_to_client"]
