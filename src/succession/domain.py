"""Pure rules of succession: the three options, the deadlines, and what a notice may say."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from kluis.errors import Invalid
from kluis.text import N_

# PRODUCT.md, "After death".
TRANSFER, SHARING, DESTRUCTION = 1, 2, 3
OPTIONS = {
    TRANSFER: N_("Transfer through a notary"),
    SHARING: N_("Sharing by me"),
    DESTRUCTION: N_("Destruction"),
}
DEFAULT_OPTION = TRANSFER

# Nothing destructive, and nothing disclosed automatically, before this has passed since
# the death and since the notice: the time in which a wrong notice is withdrawn, or voided
# by the person logging in.
SAFEGUARD = timedelta(days=10)
# Heirs take what was handed to them within this; then the vault is erased, whatever the
# option.
RETENTION = relativedelta(months=24)
# Heirs are reminded this long before the erasure (those still in the future at transfer).
REMINDERS = {
    "12m": relativedelta(months=12),
    "3m": relativedelta(months=3),
    "1m": relativedelta(months=1),
    "1w": relativedelta(weeks=1),
}

# A notice's status, per option:
#   1: awaiting-notary -> estate-opened -> transferred -> erased
#   2: notified -> shares-released -> erased
#   3: notified -> destroyed -> erased
# and, from any of those before "erased", withdrawn (by a notary) or voided (by a login).
NOTICE_STATUSES = (
    "awaiting-notary",
    "estate-opened",
    "transferred",
    "notified",
    "shares-released",
    "destroyed",
    "erased",
    "withdrawn",
    "voided",
)
ENDED = ("withdrawn", "voided")
STATUS_LABELS = {
    "awaiting-notary": N_("Waiting for a notary"),
    "estate-opened": N_("Estate opened"),
    "transferred": N_("Transferred to the heirs"),
    "notified": N_("Death recorded"),
    "shares-released": N_("Shares released, the rest destroyed"),
    "destroyed": N_("Destroyed"),
    "erased": N_("Erased"),
    "withdrawn": N_("Notice withdrawn"),
    "voided": N_("Notice voided: the person logged in"),
}
TIMER_KINDS = ("safeguard", "reminder", "erase")

MAX_REFERENCE = 100
MAX_REASON = 200


def check_option(option: object, confirm_irreversible: bool) -> int:
    if isinstance(option, bool) or option not in OPTIONS:
        raise Invalid("Choose option 1, 2 or 3.", type="succession-option-invalid")
    if option == DESTRUCTION and not confirm_irreversible:
        raise Invalid(
            "Destruction is irreversible and overrides a will: confirm that you understand.",
            type="confirmation-required",
        )
    assert isinstance(option, int)
    return option


def initial_status(option: int) -> str:
    return "awaiting-notary" if option == TRANSFER else "notified"


def check_text(value: str | None, limit: int, *, type: str, message: str) -> str:
    """A reference or reason: required, one line, at most `limit` characters."""
    text = " ".join((value or "").split())
    if not text or len(text) > limit:
        raise Invalid(message, type=type, params={"max": limit})
    return text


def check_reference(value: str | None) -> str:
    return check_text(
        value,
        MAX_REFERENCE,
        type="reference-invalid",
        message=N_("Give the reference of the death certificate (at most %(max)s characters)."),
    )


def check_reason(value: str | None) -> str:
    return check_text(
        value,
        MAX_REASON,
        type="reason-required",
        message=N_("Give the reason: the estate file (at most %(max)s characters)."),
    )


def check_date_of_death(value: date, birth_date: date | None, today: date) -> date:
    if value > today:
        raise Invalid("The date of death lies in the future.", type="date-of-death-invalid")
    if birth_date is not None and value < birth_date:
        raise Invalid(
            "The date of death lies before the date of birth.", type="date-of-death-invalid"
        )
    return value


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def safeguard_until(date_of_death: date, recorded_at: datetime) -> datetime:
    """The end of the safeguard: 10 days after the death, and after the notice."""
    return max(start_of(date_of_death) + SAFEGUARD, recorded_at + SAFEGUARD)


def erase_at(date_of_death: date, safeguard_end: datetime) -> datetime:
    """24 months after the death (never before the safeguard ends)."""
    return max(start_of(date_of_death + RETENTION), safeguard_end)


def reminder_times(deadline: datetime, after: datetime) -> dict[str, datetime]:
    """The reminders still ahead at `after`, by label."""
    times = {label: deadline - offset for label, offset in REMINDERS.items()}
    return {label: at for label, at in times.items() if at > after}
