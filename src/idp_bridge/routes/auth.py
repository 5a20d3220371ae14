"""HTTP for logging in and out: login, callback, logout, back-channel logout, JWKS."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.interfaces import LogoutForm
from idp_bridge.routes.access import identity_of, request_actor
from idp_bridge.services import (
    EmailAddresses,
    IdentityBroker,
    Sessions,
)
from idp_bridge.services.email import CONFIRM_PATH
from kluis.audit import Actor
from kluis.settings import Settings
from kluis.text import N_
from kluis.web.i18n import language_cookie
from kluis.web.openapi import TEXT, reads_body
from kluis.web.shell import allow_form_target

LOGIN_COOKIE_PLAIN = "kluis_login"

# The labels of the shipped provider profiles, which live in config/ where extraction cannot
# see them.
PROVIDER_LABELS = (
    N_("Log in with itsme"),
    N_("Log in with eID"),
    N_("Log in with a European eID"),
    N_("Development login"),
)


def login_choices(broker: IdentityBroker) -> list[dict[str, Any]]:
    """The providers a login page offers."""
    return [
        {"name": name, "label": p.config.label, "development": p.config.development}  # type: ignore[attr-defined]
        for name, p in broker.providers.items()
        if p.config.show_on_landing  # type: ignore[attr-defined]
    ]


def _login_cookie_name(settings: Settings) -> str:
    return "__Host-kluis_login" if settings.secure_cookies else LOGIN_COOKIE_PLAIN


def _cookie(
    settings: Settings, key: str, value: str, max_age: int | None, *, cross_site: bool = False
) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/",
        max_age=max_age,
        secure=settings.secure_cookies,
        httponly=True,
        # A provider that answers with a cross-site form post (SAML) only gets the login's
        # browser binding back if the cookie may travel with it; browsers allow that for
        # secure cookies only. The cookie binds a login in flight and opens nothing.
        samesite="none" if cross_site and settings.secure_cookies else "lax",
    )


LOGOUT_TOKEN = reads_body(
    "OpenID back-channel logout: the provider's signed logout token",
    {
        "application/x-www-form-urlencoded": Schema(
            type=OpenAPIType.OBJECT, required=["logout_token"], properties={"logout_token": TEXT}
        )
    },
)


class AuthController(Controller):
    path = "/auth"
    tags = ["identity"]

    @get("/login/{provider:str}", include_in_schema=False)
    async def login(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        broker: NamedDependency[IdentityBroker],
        settings: NamedDependency[Settings],
        provider: FromPath[str],
        next: FromQuery[str | None] = None,
        login_hint: FromQuery[str | None] = None,
    ) -> Response[Any]:
        cookie_name = _login_cookie_name(settings)
        # A fresh binding for every login, so a cookie planted beforehand binds nothing.
        browser = secrets.token_urlsafe(32)
        url = await broker.start_login(
            db,
            provider,
            browser_token=browser,
            next_path=next,
            login_hint=login_hint,
            actor=request_actor(request),
        )
        seconds = settings.session.login_attempt_minutes * 60
        cross_site = broker.provider(provider).posts_back
        cookie = _cookie(settings, cookie_name, browser, seconds, cross_site=cross_site)
        return Redirect(url, cookies=[cookie])

    async def _callback(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        broker: NamedDependency[IdentityBroker],
        sessions: NamedDependency[Sessions],
        settings: NamedDependency[Settings],
        provider: FromPath[str],
        params: dict[str, str],
    ) -> Response[Any]:
        result = await broker.complete_login(
            db,
            provider,
            params,
            browser_token=request.cookies.get(_login_cookie_name(settings)),
            actor=request_actor(request),
        )
        # A new session id at every login: the session this browser had ends, but only once
        # the new login succeeded, so a forged callback link cannot log anyone out.
        previous = identity_of(request)
        if previous is not None:
            await sessions.end(db, previous, request_actor(request))
        return Redirect(
            result.next_path,
            cookies=[
                _cookie(settings, settings.session_cookie, result.session_token, None),
                _cookie(settings, _login_cookie_name(settings), "", 0),
                language_cookie(result.person.language, settings.secure_cookies),
            ],
        )

    @get("/callback/{provider:str}", include_in_schema=False)
    async def callback(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        broker: NamedDependency[IdentityBroker],
        sessions: NamedDependency[Sessions],
        settings: NamedDependency[Settings],
        provider: FromPath[str],
    ) -> Response[Any]:
        params = {k: v for k, v in request.query_params.items()}
        return await self._callback(request, db, broker, sessions, settings, provider, params)

    @post("/callback/{provider:str}", include_in_schema=False, exclude_from_csrf=True)
    async def callback_form_post(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        broker: NamedDependency[IdentityBroker],
        sessions: NamedDependency[Sessions],
        settings: NamedDependency[Settings],
        provider: FromPath[str],
    ) -> Response[Any]:
        params = {k: str(v) for k, v in (await request.form()).items()}
        return await self._callback(request, db, broker, sessions, settings, provider, params)

    @post("/logout", status_code=303)
    async def logout(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        sessions: NamedDependency[Sessions],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        identity = identity_of(request)
        target = None
        if identity is not None:
            target = await sessions.logout(db, identity, request_actor(request))
        cookies = [_cookie(settings, settings.session_cookie, "", 0)]
        if isinstance(target, LogoutForm):
            request.scope["state"]["identity"] = None  # the page shows no one logged in
            allow_form_target(request.scope, target.action)
            return Template(
                "idp_bridge/provider_logout.html", context={"form": target}, cookies=cookies
            )
        return Redirect(target or "/", status_code=303, cookies=cookies)

    @get("/email/confirm", include_in_schema=False)
    async def confirm_email(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        emails: NamedDependency[EmailAddresses],
        broker: NamedDependency[IdentityBroker],
        token: FromQuery[str],
    ) -> Response[Any]:
        identity = identity_of(request)
        if identity is None:
            # Only the person the link was made for may use it: log in first, then back here.
            emails.read_link(token)  # an expired or broken link says so before any login
            return Template(
                "idp_bridge/email_login.html",
                context={
                    "providers": login_choices(broker),
                    "next": f"{CONFIRM_PATH}?{urlencode({'token': token})}",
                },
            )
        await emails.confirm(db, identity.person, token, request_actor(request))
        return Redirect("/home?email=confirmed")

    @post(
        "/backchannel-logout/{provider:str}",
        exclude_from_csrf=True,
        status_code=200,
        operation_class=LOGOUT_TOKEN,
    )
    async def backchannel_logout(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        sessions: NamedDependency[Sessions],
        provider: FromPath[str],
    ) -> Response[dict[str, int]]:
        form = await request.form()
        token = form.get("logout_token")
        actor = Actor(label=N_("identity provider"), ip=request_actor(request).ip)
        ended = await sessions.backchannel_logout(
            db, provider, str(token) if token else None, actor
        )
        return Response({"sessions_ended": ended}, headers={"cache-control": "no-store"})


@get("/.well-known/jwks.json", tags=["identity"])
async def jwks(
    db: NamedDependency[AsyncSession], broker: NamedDependency[IdentityBroker]
) -> dict[str, Any]:
    return await broker.rp_keys.jwks(db)
