"""What the history page calls actions and reasons, and the kinds it filters by."""

from __future__ import annotations

from kluis.text import N_

# What the history page calls each action; every domain adds its own (message ids).
ACTION_LABELS: dict[str, str] = {}

# What the history page calls each refusal reason (`detail["reason"]`); every domain adds
# its own (message ids).
REASON_LABELS: dict[str, str] = {}

# Actions whose target is a message id (a provider's label) rather than something a person
# named (a document): only these targets are translated when shown.
TRANSLATED_TARGETS: set[str] = set()

# The kinds a citizen filters the history by, in the order the page offers them. A domain
# may add a kind; most only map their actions onto these (`ACTION_KINDS`).
OTHER_KIND = "other"
HISTORY_KINDS: dict[str, str] = {
    "access": N_("Logins and sessions"),
    "documents": N_("Documents"),
    "sharing": N_("Sharing and contacts"),
    "notary": N_("Notaries and deeds"),
    "succession": N_("After death"),
    "account": N_("Account and settings"),
    OTHER_KIND: N_("Other"),
}

# Which kind an action belongs to, keyed by a leading part of its tag (`vault`,
# `vault:document` or a whole tag); every domain adds its own. The longest key that matches
# wins, and an action no key matches is of the kind "other".
ACTION_KINDS: dict[str, str] = {}


def _tag_matches(action: str, key: str) -> bool:
    return action == key or action.startswith(key + ":")


def kind_of(action: str, kinds: dict[str, str] | None = None) -> str:
    kinds = ACTION_KINDS if kinds is None else kinds
    matching = [key for key in kinds if _tag_matches(action, key)]
    return kinds[max(matching, key=len)] if matching else OTHER_KIND


def kind_rules(kind: str, kinds: dict[str, str] | None = None) -> list[tuple[str, list[str]]]:
    """The tag keys of `kind`, each with the longer keys under it that belong to another
    kind: an action is of `kind` exactly when it matches a key and none of that key's
    exceptions (the way `kind_of` decides). "other" is one rule with no key: no key of any
    kind matches."""
    kinds = ACTION_KINDS if kinds is None else kinds
    if kind == OTHER_KIND:
        return [("", sorted(kinds))]
    return [
        (key, sorted(k for k, v in kinds.items() if v != kind and _tag_matches(k, key)))
        for key, v in sorted(kinds.items())
        if v == kind
    ]
