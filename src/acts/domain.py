"""Pure rules of the notary register."""

from __future__ import annotations

from typing import Literal

import stdnum.be.vat
from stdnum.exceptions import ValidationError

from kluis.errors import Invalid

MemberRole = Literal["notary", "staff"]
MEMBER_ROLES: tuple[str, ...] = ("notary", "staff")


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
