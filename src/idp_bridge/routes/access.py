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
from kluis.web.ratelimit import client_address


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentSession | None:
    return connection.scope.get("state", {}).get("identity")


# Guards and request hooks are coroutines: Litestar runs a plain function in its thread
# pool, a hop out of the event loop and back on every request (tests/integration/kluis/
# test_app.py).
async def requires_login(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
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
        # Behind the reverse proxy, the client it names (as the rate limits count it).
        ip=client_address(request.scope, request.app.state.trusted_networks)
        if request.client
        else None,
        user_agent=request.headers.get("user-agent"),
    )
    identity = identity_of(request)
    if identity is None:
        return visitor
    return visitor.with_identity(identity.person.id, identity.person.full_name)


def identity_middleware(app: ASGIApp) -> ASGIApp:
    """Before guards and handlers: the session named by the cookie, if it is still valid.

    It is read in the request's own database session (the one the handler gets as `db`), so
    a request checks out one connection, not two."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        # Static files need no session: no database round trip for each of them. Nor do
        # routes marked `sessionless` (health probes, metrics).
        handler = scope.get("route_handler")
        sessionless = handler is not None and handler.opt.get("sessionless", False)
        if scope["type"] != "http" or sessionless or scope["path"].startswith("/static/"):
            await app(scope, receive, send)
            return
        state = scope["litestar_app"].state
        token = ASGIConnection(scope).cookies.get(state.settings.session_cookie)
        identity, unread, db = None, 0, None
        try:
            if token:
                db = state.db_config.provide_session(state, scope)
                # An API request's rate-limit count rides on the session cache's round trip.
                count = state.rate_limiter.session_counter(scope)
                identity = await state.identity.sessions.load(db, token, count)
                if identity is not None:
                    # Detached, as it was read: a handler's rollback must not expire it.
                    db.expunge(identity.person)
                    # Pages show how many notifications are unread; the API has its route.
                    if not scope["path"].startswith("/api/"):
                        unread = await state.notifications.unread(db, identity.person.id)
            if identity is not None and identity.person.language in state.settings.languages:
                set_language(identity.person.language)  # a person's own choice wins
            scope.setdefault("state", {}).update(identity=identity, unread_notifications=unread)
            await app(scope, receive, send)
        finally:
            # The plugin closes the session when the response starts; this is for a request
            # that ends before one does (a client gone, an error while answering).
            if db is not None:
                await db.close()

    return middleware
