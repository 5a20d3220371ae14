from __future__ import annotations

from datetime import date

import pytest

from idp_bridge.domain import LoginRefused, check_adult, loa_at_least, make_nrn, parse_nrn


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
