"""Pure identity rules: national registry numbers, levels of assurance, who gets a vault."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

import stdnum.be.bis
import stdnum.be.nn
from email_validator import EmailNotValidError, validate_email
from stdnum.exceptions import ValidationError

from kluis.errors import AppError, Invalid
from kluis.text import N_

LevelOfAssurance = Literal["low", "substantial", "high"]
LOA_ORDER: dict[str, int] = {"low": 1, "substantial": 2, "high": 3}
ADULT_AGE = 18


def loa_at_least(level: str | None, minimum: str) -> bool:
    return LOA_ORDER.get(level or "", 0) >= LOA_ORDER[minimum]


# Why a login was refused, as problem slugs and the message the person reads.
REFUSALS: dict[str, tuple[int, str]] = {
    "login-state-invalid": (
        400,
        N_("This login link has expired or was already used. Please start again."),
    ),
    "login-provider-error": (
        400,
        N_("The identity provider did not complete the login. Please try again."),
    ),
    "login-token-invalid": (
        400,
        N_("The identity provider's answer could not be verified. Please try again."),
    ),
    "login-provider-unavailable": (
        503,
        N_("The identity provider cannot be reached right now. Please try again later."),
    ),
    "nrn-missing": (
        403,
        N_("Your identity provider did not share your national registry number."),
    ),
    "nrn-invalid": (403, N_("Your national registry number is not valid.")),
    "nrn-not-national-register": (
        403,
        N_(
            "A personal vault needs a number from the national register; "
            "BIS numbers are not accepted."
        ),
    ),
    "under-age": (403, N_("A personal vault is available from the age of 18.")),
    "loa-too-low": (
        403,
        N_("This way of logging in is not secure enough. Please use your eID card or itsme."),
    ),
    "death-recorded": (
        403,
        N_(
            "A death was recorded for this national registry number. If this is you, log in "
            "with your eID card or itsme: that cancels the notice."
        ),
    ),
    "redirect-not-allowed": (400, N_("This login link points outside Kluis and was refused.")),
    "provider-unknown": (404, N_("This identity provider is not available.")),
}


class LoginRefused(AppError):
    """A login the platform will not accept. `type` names the reason (the problem slug);
    `detail` is what the history records about it (never personal data)."""

    def __init__(self, reason: str, **detail: str) -> None:
        status, message = REFUSALS[reason]
        super().__init__(message, type=reason, status=status)
        self.reason = reason
        self.detail = detail


refuse = LoginRefused


@dataclass(frozen=True)
class NationalNumber:
    """A validated national registry number. Its `repr` never shows the digits."""

    digits: str
    birth_date: date | None

    def __repr__(self) -> str:
        return f"NationalNumber({self.masked})"

    __str__ = __repr__

    @property
    def masked(self) -> str:
        # Same shape as on the eID card, with only the birth date part visible.
        d = self.digits
        return f"{d[0:2]}.{d[2:4]}.{d[4:6]}-xxx.xx"


ELEVEN_DIGITS = re.compile(r"\d{11}")


def may_carry_nrn(value: str) -> bool:
    """Whether a provider's identifier may hold a national registry number: eIDAS nodes
    often send the PersonIdentifier `BE/BE/<number>` as NameID."""
    return ELEVEN_DIGITS.search(value) is not None


def parse_nrn(value: object) -> NationalNumber:
    """Validate a national registry number; BIS numbers and bad checksums are refused."""
    if not isinstance(value, str | int) or not str(value).strip():
        raise refuse("nrn-missing")
    digits = stdnum.be.nn.compact(str(value))
    if not digits.isdigit() or len(digits) != 11:
        raise refuse("nrn-invalid")
    if stdnum.be.bis.is_valid(digits):
        raise refuse("nrn-not-national-register")
    try:
        stdnum.be.nn.validate(digits)
    except ValidationError as exc:
        raise refuse("nrn-invalid") from exc
    return NationalNumber(digits=digits, birth_date=stdnum.be.nn.get_birth_date(digits))


def age_on(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_adult(birth_date: date | None, today: date) -> None:
    # An NRN with an unknown birth date (day or month 00) cannot prove majority.
    if birth_date is None or age_on(birth_date, today) < ADULT_AGE:
        raise refuse("under-age")


def make_nrn(birth: date, serial: int) -> str:
    """Build a valid NRN for a birth date and serial (demo data and synthetic test people)."""
    body = f"{birth:%y%m%d}{serial:03d}"
    base = int(("2" if birth.year >= 2000 else "") + body)
    return f"{body}{97 - base % 97:02d}"


# -- e-mail addresses ---------------------------------------------------------------------


def parse_email(value: str, *, test_domains: bool = False) -> str:
    """A syntactically valid address, normalized (domain in lower case, Unicode NFC).

    Whether the domain receives mail is not asked here: the confirmation link proves more.
    Reserved domains (`.localhost`, `.invalid`, …) are refused; `.test` only where
    `test_domains` allows it (development and tests, whose demo people live there).
    """
    try:
        return validate_email(
            value.strip(), check_deliverability=False, test_environment=test_domains
        ).normalized
    except EmailNotValidError:
        raise Invalid("This e-mail address is not valid.", type="email-invalid") from None


# Why a confirmation link was refused, as problem slugs and the message the person reads.
EMAIL_LINK_REFUSALS: dict[str, tuple[int, str]] = {
    "email-link-invalid": (
        400,
        N_("This confirmation link is not valid. Please open the whole link from the e-mail."),
    ),
    "email-link-expired": (
        410,
        N_("This confirmation link has expired. Please ask for a new one on your home page."),
    ),
    "email-link-other-person": (
        403,
        N_("This confirmation link was sent for someone else's account."),
    ),
    "email-link-superseded": (
        409,
        N_(
            "This confirmation link is for an address that has been changed since. "
            "Please open the link in the most recent e-mail."
        ),
    ),
    "email-link-used": (409, N_("This e-mail address is already confirmed.")),
}


class EmailLinkRefused(AppError):
    def __init__(self, reason: str) -> None:
        status, message = EMAIL_LINK_REFUSALS[reason]
        super().__init__(message, type=reason, status=status)
        self.reason = reason


@dataclass(frozen=True)
class EmailLink:
    """What a confirmation link vouches for: whose address, which address (a keyed tag, so
    the link does not carry the address itself), and which change of address it confirms
    (the sequence number of that change in the person's history; 0 for the address the
    identity provider gave)."""

    person_id: uuid.UUID
    address_tag: str
    change: int


def check_email_link(
    link: EmailLink,
    *,
    person_id: uuid.UUID,
    address_tag: str | None,
    latest_change: int,
    verified: bool,
) -> None:
    """A genuine, unexpired link confirms the person's current address, once."""
    if link.person_id != person_id:
        raise EmailLinkRefused("email-link-other-person")
    if link.address_tag != address_tag or link.change != latest_change:
        raise EmailLinkRefused("email-link-superseded")
    if verified:
        raise EmailLinkRefused("email-link-used")
