"""HTTP for in-app notifications and the choice of which to receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.notifications import CHANNELS, KINDS, Notifications
from idp_bridge.routes import current, requires_login
from idp_bridge.services import People
from kluis.web.i18n import gettext


class NotificationOut(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    text: str  # in the reader's language
    link: str | None
    created_at: datetime
    read: bool


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["identity"]
    guards = [requires_login]

    @get("/")
    async def list_notifications(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        inbox: NamedDependency[Notifications],
    ) -> list[NotificationOut]:
        return [
            NotificationOut(
                id=str(n.id),
                kind=n.kind,
                text=gettext(n.message, **n.params),
                link=n.link,
                created_at=n.created_at,
                read=n.read_at is not None,
            )
            for n in await inbox.list(db, current(request).person)
        ]

    @post("/read", status_code=204)
    async def mark_read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        inbox: NamedDependency[Notifications],
    ) -> None:
        """Mark every notification read."""
        await inbox.mark_read(db, current(request).person)


class NotificationPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    @get("/notifications")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        inbox: NamedDependency[Notifications],
    ) -> Template:
        person = current(request).person
        return Template(
            "idp_bridge/notifications.html",
            context={
                "notifications": await inbox.list(db, person),
                "kinds": KINDS,
                "channels": CHANNELS,
                "preferences": person.notifications or {},
            },
        )

    @post("/notifications/read", status_code=303)
    async def read(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        inbox: NamedDependency[Notifications],
    ) -> Redirect:
        await inbox.mark_read(db, current(request).person)
        return Redirect("/notifications", status_code=303)

    @post("/notifications/preferences", status_code=303)
    async def preferences(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        people: NamedDependency[People],
    ) -> Redirect:
        """Every switch is on the form: a ticked box is on, a missing one off."""
        form = await request.form()
        chosen = {
            f"{kind}.{channel}": form.get(f"{kind}.{channel}") == "on"
            for kind in KINDS
            for channel in CHANNELS
        }
        await people.update_profile(db, current(request).person, notifications=chosen)
        return Redirect("/notifications", status_code=303)
