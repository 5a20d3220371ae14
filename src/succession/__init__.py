"""Succession: the vault's fate after death. The choice of option, death notices and their
safeguard, notaries' look-ups, estates and heirs, inheritances, destruction on time."""

from __future__ import annotations

from dataclasses import dataclass

from idp_bridge import Identity
from idp_bridge.notifications import Notifications
from kluis.hooks import Hooks
from kluis.keys import KeyProvider
from kluis.settings import Settings
from succession import labels  # noqa: F401 (the history's words for succession)
from succession.alerts import OfficeAlerts
from succession.choice import Choices
from succession.estates import Estates
from succession.inheritances import Inheritances
from succession.notices import DeathNotices
from succession.sweep import Sweep, SweepReport
from vault import Destruction, Documents, Shares


@dataclass(frozen=True)
class Succession:
    choices: Choices
    notices: DeathNotices
    estates: Estates
    inheritances: Inheritances
    sweep: Sweep


def build_succession(
    settings: Settings,
    keys: KeyProvider,
    hooks: Hooks,
    identity: Identity,
    documents: Documents,
    shares: Shares,
    notifications: Notifications,
) -> Succession:
    """The succession services; a person's own login now voids a death notice about them."""
    notices = DeathNotices(
        identity.people, identity.sessions, OfficeAlerts(settings, notifications)
    )
    hooks.login_guards.append(notices.on_login)
    return Succession(
        choices=Choices(),
        notices=notices,
        estates=Estates(keys, notices, notifications),
        inheritances=Inheritances(documents),
        sweep=Sweep(shares, Destruction(documents.engine), notifications),
    )


__all__ = ["Succession", "SweepReport", "build_succession"]
