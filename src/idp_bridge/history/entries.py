"""A history event as the citizen reads it: in their language and their time zone.

The page, the CSV and the PDF all show these same words, so an export says what the page
says. Translation happens here, when shown, never when the event is written: the history
keeps message ids (ACTION_LABELS, REASON_LABELS, an actor's label) and what people named
(a document) as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from kluis.audit import (
    ACTION_LABELS,
    HISTORY_KINDS,
    REASON_LABELS,
    TRANSLATED_TARGETS,
    HistoryEvent,
    kind_of,
)
from kluis.web.i18n import gettext


@dataclass(frozen=True)
class Entry:
    seq: int
    action: str  # the tag, `vault:document:uploaded`
    kind: str
    at: datetime  # in the platform's time zone
    kind_label: str
    what: str
    who: str
    on_what: str
    ip: str
    detail: str

    @property
    def when(self) -> str:
        return self.at.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def refused(self) -> bool:
        return self.action.endswith(":refused")


def _detail(event: HistoryEvent) -> str:
    detail = event.detail or {}
    if detail.get("reason"):
        reason = str(detail["reason"])
        return gettext(REASON_LABELS.get(reason, reason))
    if detail.get("renamed_from"):
        return gettext("Formerly %(name)s", name=str(detail["renamed_from"]))
    return ""


def entry_of(event: HistoryEvent, zone: tzinfo) -> Entry:
    kind = kind_of(event.action)
    target = event.target or ""
    return Entry(
        seq=event.seq,
        action=event.action,
        kind=kind,
        at=event.at.astimezone(zone),
        kind_label=gettext(HISTORY_KINDS.get(kind, kind)),
        what=gettext(ACTION_LABELS.get(event.action, event.action)),
        # A person acts under their own name; only the platform's labels ("unidentified
        # visitor", "operator") have no id, and they are message ids.
        who=event.actor_label if event.actor_id else gettext(event.actor_label),
        on_what=gettext(target) if target and event.action in TRANSLATED_TARGETS else target,
        ip=event.ip or "",
        detail=_detail(event),
    )
