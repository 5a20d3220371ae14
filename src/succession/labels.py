"""How the history page names succession's events and reasons (message ids)."""

from __future__ import annotations

from kluis.audit import ACTION_KINDS, ACTION_LABELS, REASON_LABELS
from kluis.text import N_

ACTION_KINDS.update({"succession": "succession"})
ACTION_LABELS.update(
    {
        "succession:option:changed": N_("Choice after death changed"),
        "succession:death:recorded": N_("Death recorded"),
        "succession:death:withdrawn": N_("Death notice withdrawn by a notary"),
        "succession:death:voided": N_("Death notice voided: the person logged in"),
        "succession:reference-office:alerted": N_("Reference notary told of a death"),
        "succession:lookup": N_("Looked up by a notary (national registry number)"),
        "succession:estate:opened": N_("Estate opened"),
        "succession:estate:heirs": N_("Heirs recorded"),
        "succession:estate:transferred": N_("Vault transferred to the heirs"),
        "succession:safeguard:ended": N_("Ten days after death: the chosen option applied"),
        "succession:vault:erased": N_("Vault erased, 24 months after death"),
        "succession:inheritance:received": N_("Inheritance received"),
        "succession:inheritance:downloaded": N_("Inherited document downloaded"),
        "succession:inheritance:copied": N_("Inherited document copied into a vault"),
        "succession:inheritance:reminded": N_("Reminder: an inheritance will be erased"),
        "succession:inheritance:erased": N_("Inheritance erased"),
        "succession:inheritance:withdrawn": N_("Inheritance withdrawn: the death notice ended"),
    }
)
REASON_LABELS.update(
    {
        "death-recorded": N_("A death was recorded for this person."),
        "person-logged-in": N_("The person logged in themself."),
    }
)
