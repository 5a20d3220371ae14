"""An event as the citizen reads it: their language, Belgian time, names as written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import idp_bridge.routes  # noqa: F401 - registers the identity domain's labels and kinds
import vault.pages  # noqa: F401 - registers the vault's
from idp_bridge.history.entries import entry_of
from kluis.audit import HistoryEvent
from kluis.web.i18n import current_language, set_language

BRUSSELS = ZoneInfo("Europe/Brussels")
JAN = uuid.uuid4()


@pytest.fixture
def french() -> Iterator[None]:
    before = current_language()
    set_language("fr")
    yield
    set_language(before)


def event(action: str, **fields: object) -> HistoryEvent:
    values: dict[str, object] = {
        "seq": 1,
        "at": datetime(2025, 7, 1, 10, 30, tzinfo=UTC),
        "actor_id": JAN,
        "actor_label": "Jan Peeters",
        "action": action,
        "target": None,
        "ip": "192.0.2.7",
        "detail": {},
    }
    values.update(fields)
    return HistoryEvent(**values)


def test_an_entry_says_when_in_belgian_time_what_who_and_from_where(french):
    entry = entry_of(event("idp:login:succeeded", target="Log in with itsme"), BRUSSELS)
    assert entry.when == "2025-07-01 12:30:00"
    assert (entry.what, entry.who, entry.ip) == ("Connexion", "Jan Peeters", "192.0.2.7")
    assert entry.on_what == "Se connecter avec itsme"  # a provider's label is a message id
    assert entry.kind == "access"


def test_a_document_keeps_the_name_its_owner_gave_it(french):
    entry = entry_of(event("vault:document:uploaded", target="Log in with itsme"), BRUSSELS)
    assert entry.on_what == "Log in with itsme"
    assert (entry.what, entry.kind) == ("Document conservé", "documents")


def test_the_platforms_own_actors_are_translated_and_people_are_not(french):
    visitor = event("idp:login:refused", actor_id=None, actor_label="unidentified visitor")
    assert entry_of(visitor, BRUSSELS).who == "visiteur non identifié"
    named = event("idp:login:succeeded", actor_label="unidentified visitor")
    assert entry_of(named, BRUSSELS).who == "unidentified visitor"


def test_a_refusal_gives_its_reason_in_words(french):
    entry = entry_of(event("idp:session:ended", detail={"reason": "logout"}), BRUSSELS)
    assert entry.detail == "Déconnexion à votre demande."
    refused = entry_of(event("vault:document:refused", detail={"reason": "x-y"}), BRUSSELS)
    assert refused.refused and refused.detail == "x-y"  # an unknown reason as it was written


def test_an_unknown_action_is_shown_by_its_tag_and_kind_other():
    entry = entry_of(event("future:thing:done"), BRUSSELS)
    assert (entry.what, entry.kind) == ("future:thing:done", "other")
