"""What the succession pages share: who may use the desk, a refusal shown in the page,
form values, dates in local time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from litestar import Request

from idp_bridge import current
from kluis.errors import AppError, Forbidden, NotFound
from kluis.settings import Settings
from kluis.web.i18n import gettext
from succession.access import Notary, notary_of


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


def desk_notary(request: Request[Any, Any, Any], office_id: uuid.UUID) -> Notary:
    """A notary of the office in person. Its other members are told the desk is for
    notaries; for anyone else the office does not exist here."""
    try:
        return notary_of(request, office_id)
    except Forbidden:
        if any(role.scope_id == office_id for role in current(request).roles):
            raise
        raise NotFound("This notary office is not registered.", type="office-not-found") from None


def office_of(notary: Notary) -> SimpleNamespace:
    return SimpleNamespace(id=notary.office_id, name=notary.office_name)


def form_values(form: Any, *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in names}
