"""The citizen's history ("Historiek") as they read it: the API, the page with its filters
and the chain's verdict, and the CSV and PDF exports.

The events themselves, their chain and the kinds they are grouped in belong to the kernel
(`kluis.audit`); this package reads one person's events for that person. `filters` and
`entries` are pure, `exports` makes the files, `service` reads, `routes` is the HTTP.
"""

from idp_bridge.history.routes import HistoryApi, HistoryPages
from idp_bridge.history.service import Histories, HistoryPage

__all__ = ["Histories", "HistoryApi", "HistoryPage", "HistoryPages"]
