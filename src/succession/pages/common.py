"""What the succession pages share: a refusal shown in the page, dates in local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kluis.errors import AppError
from kluis.settings import Settings
from kluis.web.i18n import gettext


@dataclass(frozen=True)
class Refusal:
    """A refused form, shown next to it: which form, the problem type, the message."""

    form: str
    type: str
    message: str
    status: int


def refusal_of(error: AppError, form: str) -> Refusal:
    return Refusal(form, error.type, gettext(error.message, **error.params), error.status)


def local_time(settings: Settings):  # type: ignore[no-untyped-def]
    """A moment as the citizens' pages show it: in the platform's time zone, to the minute."""

    def show(moment: datetime) -> str:
        return moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")

    return show
