"""The history ("Historiek"): append-only events, hash-chained per subject.

Each event's hash covers its own fields and the previous event's hash, and a head row per
subject holds the last sequence number and hash. Editing, deleting or reordering any event
(including the newest) therefore breaks `verify`. The head is anchored by an HMAC under a
secret of the key provider, which the database does not hold: whoever can only write to
the database cannot rewrite a whole chain and move its head to match. Events are written in
the caller's transaction, so a history entry exists exactly when the change it records does.

Action tags read `source:subject:action` (`idp:login:succeeded`). Details never hold an NRN.
"""

from kluis.audit.chain import (
    GENESIS,
    PLATFORM_SUBJECT,
    Actor,
    ChainReport,
    Entry,
    HistoryEvent,
    HistoryHead,
    WrittenEvent,
    anchor,
    anchoring_key,
    chain_intact,
    event_hash,
    head_mac,
    record,
    record_all,
    verify,
)
from kluis.audit.kinds import (
    ACTION_KINDS,
    ACTION_LABELS,
    HISTORY_KINDS,
    OTHER_KIND,
    REASON_LABELS,
    TRANSLATED_TARGETS,
    kind_of,
    kind_rules,
)
from kluis.audit.reading import (
    Selection,
    count_history,
    history_for,
    latest_seq,
    stream_history,
)

__all__ = [
    "ACTION_KINDS",
    "ACTION_LABELS",
    "GENESIS",
    "HISTORY_KINDS",
    "OTHER_KIND",
    "PLATFORM_SUBJECT",
    "REASON_LABELS",
    "TRANSLATED_TARGETS",
    "Actor",
    "ChainReport",
    "Entry",
    "HistoryEvent",
    "HistoryHead",
    "Selection",
    "WrittenEvent",
    "anchor",
    "anchoring_key",
    "chain_intact",
    "count_history",
    "event_hash",
    "head_mac",
    "history_for",
    "kind_of",
    "kind_rules",
    "latest_seq",
    "record",
    "record_all",
    "stream_history",
    "verify",
]
