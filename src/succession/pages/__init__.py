"""Succession's pages: a citizen's choice after death, an heir's inheritances, and the
notary's desk (deaths, look-ups, estates, the transfer)."""

from succession.pages.citizen import ChoicePages, InheritancePages
from succession.pages.desk import DeskPages
from succession.pages.estate import EstatePages

__all__ = ["ChoicePages", "DeskPages", "EstatePages", "InheritancePages"]
