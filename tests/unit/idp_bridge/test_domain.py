from __future__ import annotations

import uuid
from datetime import date

import pytest

from idp_bridge.domain import (
    EmailLink,
    EmailLinkRefused,
    LoginRefused,
    check_adult,
    check_email_link,
    loa_at_least,
    make_nrn,
    parse_email,
    parse_nrn,
)
from kluis.errors import Invalid


def test_valid_nrn_gives_its_birth_date():
    nrn = parse_nrn("85.07.30-033.28")
    assert nrn.digits == "85073003328"
    assert nrn.birth_date == date(1985, 7, 30)


def test_nrn_of_someone_born_after_2000():
    digits = make_nrn(date(2001, 5, 21), 16)
    assert parse_nrn(digits).birth_date == date(2001, 5, 21)


def test_nrn_never_shows_its_digits_when_printed():
    nrn = parse_nrn("85073003328")
    assert "033" not in repr(nrn)
    assert "033" not in str(nrn)
    assert nrn.masked == "85.07.30-xxx.xx"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("85073003327", "nrn-invalid"),  # checksum
        ("8507300332", "nrn-invalid"),  # too short
        ("8507300332a", "nrn-invalid"),
        ("", "nrn-missing"),
        (None, "nrn-missing"),
        ("85473003317", "nrn-not-national-register"),  # BIS number, month + 40
    ],
)
def test_bad_numbers_are_refused(value, reason):
    with pytest.raises(LoginRefused) as refused:
        parse_nrn(value)
    assert refused.value.type == reason


def test_eighteenth_birthday_is_adult():
    check_adult(date(2008, 11, 23), today=date(2026, 11, 23))


@pytest.mark.parametrize("birth", [date(2008, 11, 24), None])
def test_minors_and_unknown_birth_dates_are_refused(birth):
    with pytest.raises(LoginRefused) as refused:
        check_adult(birth, today=date(2026, 11, 23))
    assert refused.value.type == "under-age"
    assert refused.value.status == 403


def test_levels_of_assurance_are_ordered():
    assert loa_at_least("high", "substantial")
    assert loa_at_least("substantial", "substantial")
    assert not loa_at_least("low", "substantial")
    assert not loa_at_least(None, "low")


# -- e-mail addresses ---------------------------------------------------------------------


def test_email_addresses_are_normalized():
    assert parse_email("  Jan.Peeters@Example.BE ") == "Jan.Peeters@example.be"


@pytest.mark.parametrize(
    "value", ["", "jan", "jan@", "@example.be", "jan@@example.be", "jan@localhost", "a b@x.be"]
)
def test_bad_email_addresses_are_refused(value):
    with pytest.raises(Invalid) as refused:
        parse_email(value)
    assert refused.value.type == "email-invalid"


def test_test_domains_only_where_allowed():
    with pytest.raises(Invalid):
        parse_email("jan@example.test")
    assert parse_email("jan@example.test", test_domains=True) == "jan@example.test"


JAN_ID, MARIE_ID = uuid.uuid4(), uuid.uuid4()
LINK = EmailLink(person_id=JAN_ID, address_tag="tag-a", change=3)


def check(**changes: object) -> None:
    state: dict[str, object] = {
        "person_id": JAN_ID,
        "address_tag": "tag-a",
        "latest_change": 3,
        "verified": False,
    }
    check_email_link(LINK, **{**state, **changes})  # type: ignore[arg-type]


def test_link_confirms_the_current_address_of_its_person():
    check()


@pytest.mark.parametrize(
    ("changes", "reason", "status"),
    [
        ({"person_id": MARIE_ID}, "email-link-other-person", 403),
        ({"address_tag": "tag-b"}, "email-link-superseded", 409),
        ({"address_tag": None}, "email-link-superseded", 409),
        ({"latest_change": 7}, "email-link-superseded", 409),  # the same address, set again
        ({"verified": True}, "email-link-used", 409),
    ],
)
def test_link_is_refused_when_it_no_longer_fits(changes, reason, status):
    with pytest.raises(EmailLinkRefused) as refused:
        check(**changes)
    assert (refused.value.type, refused.value.status) == (reason, status)
