from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kluis.web.i18n import (
    LOCALE_DIR,
    current_language,
    gettext,
    in_language,
    negotiate,
    set_language,
)

SUPPORTED = ["nl", "fr", "en", "de"]


def test_cookie_wins():
    assert negotiate("fr", "en-GB,en;q=0.9", SUPPORTED) == "fr"


def test_accept_language_by_weight():
    assert negotiate(None, "de;q=0.5, fr-BE;q=0.9, xx", SUPPORTED) == "fr"


def test_unknown_languages_fall_back_to_the_default():
    assert negotiate("xx", "ja, zh;q=0.8", SUPPORTED) == "nl"


def test_malformed_header_is_ignored():
    assert negotiate(None, "en;q=abc, fr", SUPPORTED) == "fr"


def test_in_language_translates_for_the_block_only():
    set_language("nl")
    with in_language("fr"):
        assert gettext("Please log in first.") == "Veuillez d'abord vous connecter."
        assert current_language() == "fr"
    assert current_language() == "nl"


# The keywords `make messages` extracts with: gettext's, and the refusals that carry a message.
KEYWORDS = {
    **{name: None for name in ("_", "gettext", "N_")},
    "ngettext": (1, 2),
    **{name: None for name in ("Invalid", "NotFound", "Conflict", "Forbidden")},
    **{name: None for name in ("Unavailable", "Unauthenticated")},
}


@cache
def _source_messages() -> frozenset[str]:
    root = Path(__file__).parents[3]
    with (root / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(root, method_map, options_map, keywords=KEYWORDS)
    return frozenset(msgid if isinstance(msgid, str) else msgid[0] for _, _, msgid, *_ in found)


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_string_in_the_code_is_translated(language):
    """A page shows English to a Dutch reader when one of its strings is missing from the
    catalog; `make messages` adds it, and this test says which are still untranslated."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    untranslated = sorted(
        msgid for msgid in _source_messages() if not (catalog.get(msgid) and catalog[msgid].string)
    )
    assert untranslated == []


@pytest.mark.parametrize("language", SUPPORTED)
def test_translations_keep_their_placeholders(language):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    assert [(message.id, errors) for message, errors in catalog.check()] == []
