"""Pure rules of the deed registry: the kinds of deed, and what a deed to publish must be.

Everything a deed carries besides its PDF is checked here, before a byte of the PDF is
read, so a deed with bad metadata never stores anything.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from acts.domain import parse_enterprise_number
from idp_bridge import LoginRefused, parse_nrn
from kluis.errors import AppError, Invalid
from kluis.text import N_

# PRODUCT.md: citizens see the deeds dated from 1 January 2015 onwards; the registry takes
# no older ones (a deed a citizen could never see is refused rather than hidden).
FIRST_DEED_DATE = date(2015, 1, 1)
BELGIUM = ZoneInfo("Europe/Brussels")
MAX_REGISTRY_NUMBER = 50
MAX_PARTIES = 40
PDF = "application/pdf"

# The closed list of deed kinds, as the registry names them.
KINDS: dict[str, str] = {
    "sale": N_("Sale"),
    "mortgage": N_("Mortgage"),
    "marriage-contract": N_("Marriage contract"),
    "cohabitation-agreement": N_("Cohabitation agreement"),
    "gift": N_("Gift"),
    "will-certificate": N_("Will-related certificate"),
    "succession-declaration": N_("Declaration of succession"),
    "partition": N_("Partition"),
    "company-formation": N_("Company formation"),
    "company-statutes": N_("Amendment of a company's statutes"),
}
# Letters, digits and the separators registries use ("2024/1234", "R-2024.0012").
REGISTRY_CHARACTERS = frozenset(string.ascii_letters + string.digits + "/-._ ")


class DeedNotPdf(AppError):
    status = 415
    default_type = "deed-not-pdf"
    default_message = N_("A deed is published as a PDF file.")


@dataclass(frozen=True)
class DeedDraft:
    """A deed's metadata, checked: what `Deeds.publish` stores with its PDF."""

    registry_number: str
    kind: str
    deed_date: date
    enterprise_number: str | None
    parties: tuple[str, ...]  # NRN digits, each once, in the order given


def today() -> date:
    """The date in Belgium, where the deeds are passed."""
    return datetime.now(BELGIUM).date()


def check_registry_number(value: str) -> str:
    number = " ".join(value.split())
    if not number:
        raise Invalid(
            "Please give the deed's registry number.", type="deed-registry-number-missing"
        )
    if len(number) > MAX_REGISTRY_NUMBER or not set(number) <= REGISTRY_CHARACTERS:
        raise Invalid(
            N_("A registry number has at most 50 letters, digits, spaces and the signs / - . _"),
            type="deed-registry-number-invalid",
        )
    return number


def check_kind(value: str) -> str:
    if value not in KINDS:
        raise Invalid("This kind of deed does not exist.", type="deed-kind-unknown")
    return value


def check_deed_date(value: str, now: date) -> date:
    try:
        found = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(
            "Please give the deed's date as YYYY-MM-DD.", type="deed-date-invalid"
        ) from exc
    if found > now:
        raise Invalid("A deed's date cannot be in the future.", type="deed-date-in-future")
    if found < FIRST_DEED_DATE:
        raise Invalid(
            N_("The registry holds deeds dated from 1 January 2015 onwards."),
            type="deed-date-out-of-range",
        )
    return found


def check_parties(values: list[str]) -> tuple[str, ...]:
    """Each party's NRN valid; the same person named twice is one party."""
    given = [v.strip() for v in values if v.strip()]
    if not given:
        raise Invalid("A deed has at least one party.", type="deed-parties-missing")
    if len(given) > MAX_PARTIES:
        raise Invalid(
            N_("A deed has at most %(max)s parties."),
            type="deed-parties-too-many",
            params={"max": MAX_PARTIES},
        )
    parties: dict[str, None] = {}
    for number, value in enumerate(given, start=1):
        try:
            parties[parse_nrn(value).digits] = None
        except LoginRefused as exc:  # never the number itself in a message: a position
            raise Invalid(
                N_("The national registry number of party %(num)s is not valid."),
                type="nrn-invalid",
                params={"num": number},
            ) from exc
    return tuple(parties)


def check_draft(
    *,
    registry_number: str,
    kind: str,
    deed_date: str,
    enterprise_number: str,
    parties: list[str],
    now: date,
) -> DeedDraft:
    number = enterprise_number.strip()
    return DeedDraft(
        registry_number=check_registry_number(registry_number),
        kind=check_kind(kind.strip()),
        deed_date=check_deed_date(deed_date, now),
        enterprise_number=parse_enterprise_number(number) if number else None,
        parties=check_parties(parties),
    )


def document_name(registry_number: str) -> str:
    """The PDF's name in the office vault and in downloads: its registry number."""
    safe = "".join(c if c.isalnum() or c in "-._" else "-" for c in registry_number)
    return f"deed-{safe}.pdf"


def draft_from(fields: dict[str, list[str]], now: date) -> DeedDraft:
    """A deed's metadata from a form's text fields (`party` once for each party)."""

    def one(name: str) -> str:
        values = fields.get(name)
        return values[0] if values else ""

    return check_draft(
        registry_number=one("registry_number"),
        kind=one("kind"),
        deed_date=one("date"),
        enterprise_number=one("enterprise_number"),
        parties=fields.get("party", []),
        now=now,
    )
