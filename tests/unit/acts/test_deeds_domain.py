"""The deed registry's rules: what a deed to publish must be."""

from __future__ import annotations

from datetime import date

import pytest

from acts.deeds.domain import check_draft, document_name
from kluis.errors import Invalid
from tests.support.login import JAN, MARIE, bis_number

TODAY = date(2025, 6, 1)


def draft(**changes):
    fields = {
        "registry_number": " 2024/0117 ",
        "kind": "sale",
        "deed_date": "2024-03-15",
        "enterprise_number": "",
        "parties": [JAN, MARIE],
    }
    return check_draft(**(fields | changes), now=TODAY)


def test_a_deed_is_checked_and_cleaned():
    deed = draft(enterprise_number="BE 0403.170.701", parties=[JAN, " ", f" {JAN} ", MARIE])

    assert deed.registry_number == "2024/0117"
    assert deed.enterprise_number == "0403170701"
    assert deed.deed_date == date(2024, 3, 15)
    assert deed.parties == (JAN, MARIE)  # blanks dropped, the same person once


def test_the_first_day_and_today_are_fine():
    assert draft(deed_date="2015-01-01").deed_date == date(2015, 1, 1)
    assert draft(deed_date=TODAY.isoformat()).deed_date == TODAY


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"registry_number": ""}, "deed-registry-number-missing"),
        ({"registry_number": "x" * 51}, "deed-registry-number-invalid"),
        ({"registry_number": "<script>"}, "deed-registry-number-invalid"),
        ({"kind": "Sale"}, "deed-kind-unknown"),
        ({"deed_date": "2024-02-30"}, "deed-date-invalid"),
        ({"deed_date": "2025-06-02"}, "deed-date-in-future"),
        ({"deed_date": "2014-12-31"}, "deed-date-out-of-range"),
        ({"enterprise_number": "0403170702"}, "enterprise-number-invalid"),
        ({"parties": []}, "deed-parties-missing"),
        ({"parties": ["", "  "]}, "deed-parties-missing"),
        ({"parties": [JAN] * 41}, "deed-parties-too-many"),
        ({"parties": [JAN, "12345678901"]}, "nrn-invalid"),
        ({"parties": [bis_number()]}, "nrn-invalid"),
    ],
)
def test_bad_metadata_is_refused(changes, kind):
    with pytest.raises(Invalid) as refused:
        draft(**changes)

    assert refused.value.type == kind
    assert JAN not in str(refused.value) and JAN not in str(refused.value.params)


def test_the_pdf_is_named_after_its_registry_number():
    assert document_name("2024/0117 bis") == "deed-2024-0117-bis.pdf"
