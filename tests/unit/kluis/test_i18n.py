from __future__ import annotations

from kluis.web.i18n import current_language, gettext, in_language, negotiate, set_language

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
