"""Pure rules of the notary register."""

from __future__ import annotations

from typing import Literal

import stdnum.be.vat
from stdnum.exceptions import ValidationError

from idp_bridge import LoginRefused, parse_nrn
from kluis.errors import Invalid
from kluis.text import N_

MemberRole = Literal["notary", "staff"]
MEMBER_ROLES: tuple[str, ...] = ("notary", "staff")


def nrn_digits(value: str) -> str:
    """A national registry number an office or a company account sent in a body (a member,
    a client, a recipient), as its 11 digits; 422 `nrn-invalid` otherwise. (At login a bad
    number is a refused login instead: `idp_bridge.parse_nrn`.)"""
    try:
        return parse_nrn(value).digits
    except LoginRefused as exc:
        raise Invalid(
            N_("This national registry number is not valid."), type="nrn-invalid"
        ) from exc


def parse_enterprise_number(value: str) -> str:
    """A Belgian enterprise number (KBO/BCE), validated and compacted to 10 digits."""
    try:
        return stdnum.be.vat.validate(value)
    except ValidationError as exc:
        raise Invalid(
            "This enterprise number is not valid.", type="enterprise-number-invalid"
        ) from exc


def check_role(role: str) -> MemberRole:
    if role not in MEMBER_ROLES:
        raise Invalid("A member is a notary or staff.", type="member-role-invalid")
    return role  # type: ignore[return-value]
