"""The deed registry: notary offices publish deeds (metadata and the authentic PDF), the
parties see them under "My deeds"."""

from acts.deeds.domain import KINDS, DeedDraft
from acts.deeds.services import Deeds, DeedView

__all__ = ["KINDS", "DeedDraft", "DeedView", "Deeds"]
