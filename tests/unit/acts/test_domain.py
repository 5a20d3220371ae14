from __future__ import annotations

import pytest

from acts.domain import check_role, parse_enterprise_number
from kluis.errors import Invalid


def test_enterprise_number_is_validated_and_compacted():
    assert parse_enterprise_number("BE 0403.170.701") == "0403170701"


def test_bad_enterprise_number_is_refused():
    with pytest.raises(Invalid) as refused:
        parse_enterprise_number("0403.170.702")
    assert refused.value.type == "enterprise-number-invalid"


def test_member_roles():
    assert check_role("notary") == "notary"
    with pytest.raises(Invalid):
        check_role("admin")
