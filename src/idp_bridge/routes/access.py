"""Who is asking: the session behind a request, the login guard, the history's actor."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from idp_bridge.services import (
    CurrentSession,
)
from kluis.audit import Actor
from kluis.errors import Unauthenticated
from kluis.text import N_
from kluis.web.i18n import set_language


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentSession | None:
    return connection.scope.get("state", {}).get("identity")


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if identity_of(connection) is None:
        raise Unauthenticated()


def current(request: Request[Any, Any, Any]) -> CurrentSession:
    identity = identity_of(request)
    if identity is None:
        raise Unauthenticated()
    return identity


def request_actor(request: Request[Any, Any, Any]) -> Actor:
    visitor = Actor(
        label=N_("unidentified visitor"),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    identity = identity_of(request)
    if identity is None:
        return visitor
    return visitor.with_identity(identity.person.id, identity.person.full_name)


def identity_middleware(app: ASGIApp) -> ASGIApp:
    """Before guards and handlers: the session named by the cookie, if it is still valid."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        # Static files need no session: no database round trip for each of them. Nor do
        # routes marked `sessionless` (health probes, metrics).
        handler = scope.get("route_handler")
        sessionless = handler is not None and handler.opt.get("sessionless", False)
        if scope["type"] == "http" and not sessionless and not scope["path"].startswith("/static/"):
            state = scope["litestar_app"].state
            token = ASGIConnection(scope).cookies.get(state.settings.session_cookie)
            identity, unread = None, 0
            if token:
                async with state.session_maker() as db:
                    identity = await state.identity.sessions.load(db, token)
                    # Pages show how many notifications are unread; the API has its route.
                    if identity is not None and not scope["path"].startswith("/api/"):
                        unread = await state.notifications.unread(db, identity.person.id)
            if identity is not None and identity.person.language in state.settings.languages:
                set_language(identity.person.language)  # a person's own choice wins
            scope.setdefault("state", {}).update(identity=identity, unread_notifications=unread)
        await app(scope, receive, send)

    return middleware
