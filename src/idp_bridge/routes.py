"""HTTP for the identity domain: login, callback, logout, JWKS, the profile and its pages.

The history's routes are in `idp_bridge.history`."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import REFUSALS, LoginRefused
from idp_bridge.schemas import EmailAddressChange, Me, MePatch
from idp_bridge.services import (
    CurrentSession,
    EmailAddresses,
    EmailChange,
    IdentityBroker,
    People,
    Sessions,
    safe_next,
)
from idp_bridge.services.email import CONFIRM_PATH, EMAIL_CHANGED, EMAIL_CONFIRMED
from kluis.audit import ACTION_KINDS, ACTION_LABELS, REASON_LABELS, TRANSLATED_TARGETS, Actor
from kluis.errors import Invalid, Unauthenticated
from kluis.settings import Settings
from kluis.text import N_
from kluis.web.i18n import LANGUAGE_COOKIE, gettext, language_cookie, set_language

LOGIN_COOKIE_PLAIN = "kluis_login"

# The labels of the shipped provider profiles, which live in config/ where extraction cannot
# see them.
PROVIDER_LABELS = (N_("Log in with itsme"), N_("Log in with eID"), N_("Development login"))
LOA_LABELS = {"high": N_("High"), "substantial": N_("Substantial"), "low": N_("Low")}
ROLE_LABELS = {"notary": N_("Notary"), "staff": N_("Notary office staff")}
ACTION_LABELS.update(
    {
        "idp:login:succeeded": N_("Logged in"),
        "idp:login:refused": N_("Login refused"),
        "idp:session:ended": N_("Logged out"),
        "idp:profile:reference-notary": N_("Reference notary changed"),
        EMAIL_CHANGED: N_("E-mail address changed"),
        EMAIL_CONFIRMED: N_("E-mail address confirmed"),
    }
)
# What the home page says after the e-mail address form or a confirmation link.
EMAIL_NOTICES = {
    EmailChange.SENT: N_(
        "We sent a confirmation link to %(email)s. Please open it within %(hours)s hours."
    ),
    EmailChange.UNCHANGED: N_("This is already your confirmed e-mail address."),
    "confirmed": N_("Your e-mail address is confirmed."),
}
ACTION_KINDS.update({"idp": "account", "idp:login": "access", "idp:session": "access"})
TRANSLATED_TARGETS.update({"idp:login:succeeded"})  # the provider's label
REASON_LABELS.update(
    {
        **{reason: message for reason, (_status, message) in REFUSALS.items()},
        "logout": N_("You logged out."),
        "provider-logout": N_("Your identity provider ended the session."),
    }
)


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
        # Static files need no session: no database round trip for each of them.
        if scope["type"] == "http" and not scope["path"].startswith("/static/"):
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


def login_choices(broker: IdentityBroker) -> list[dict[str, Any]]:
    """The providers a login page offers."""
    return [
        {"name": name, "label": p.config.label, "development": p.config.development}  # type: ignore[attr-defined]
        for name, p in broker.providers.items()
        if p.config.show_on_landing  # type: ignore[attr-defined]
    ]


def _login_cookie_name(settings: Settings) -> str:
    return "__Host-kluis_login" if settings.secure_cookies else LOGIN_COOKIE_PLAIN


def _cookie(settings: Settings, key: str, value: str, max_age: int | None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path="/",
        max_age=max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
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
        minutes = settings.session.login_attempt_minutes
        return Redirect(url, cookies=[_cookie(settings, cookie_name, browser, minutes * 60)])

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
        return Redirect(
            target or "/",
            status_code=303,
            cookies=[_cookie(settings, settings.session_cookie, "", 0)],
        )

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

    @post("/backchannel-logout/{provider:str}", exclude_from_csrf=True, status_code=200)
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


def _me(identity: CurrentSession, people: People) -> Me:
    person = identity.person
    return Me(
        id=person.id,
        given_name=person.given_name,
        surname=person.surname,
        nrn_masked=people.masked_nrn(person),
        birth_date=person.birth_date,
        email=person.email,
        email_verified=person.email_verified,
        language=person.language,
        loa=identity.session.loa,
        roles=identity.role_names,
        offices=[
            {"id": str(r.scope_id), "name": r.scope_label or "", "role": r.name}
            for r in identity.roles
            if r.scope_id
        ],
        preferred_office_id=person.preferred_office_id,
        # Succession options arrive with their domain; until then the product's default.
        succession_option=1,
        notifications=person.notifications or {},
    )


class MeController(Controller):
    path = "/api/v1"
    tags = ["identity"]
    guards = [requires_login]

    @get("/me")
    async def me(self, request: Request[Any, Any, Any], people: NamedDependency[People]) -> Me:
        return _me(current(request), people)

    @patch("/me")
    async def update_me(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        people: NamedDependency[People],
        data: JSONBody[MePatch],
    ) -> Me:
        identity = current(request)
        person = await people.update_profile(
            db,
            identity.person,
            language=data.language,
            notifications=data.notifications,
            preferred_office_id=data.preferred_office_id,
            actor=request_actor(request),
        )
        return _me(CurrentSession(identity.session, person, identity.roles), people)

    @post("/me/email", status_code=200)
    async def change_email(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        people: NamedDependency[People],
        emails: NamedDependency[EmailAddresses],
        data: JSONBody[EmailAddressChange],
    ) -> Me:
        """Set the address and mail it a confirmation link; it counts once confirmed."""
        identity = current(request)
        person, _change = await emails.change(
            db, identity.person, data.email, request_actor(request)
        )
        return _me(CurrentSession(identity.session, person, identity.roles), people)


class PagesController(Controller):
    include_in_schema = False

    @get("/")
    async def landing(
        self, request: Request[Any, Any, Any], broker: NamedDependency[IdentityBroker]
    ) -> Response[Any]:
        if identity_of(request) is not None:
            return Redirect("/home")
        return Template("idp_bridge/landing.html", context={"providers": login_choices(broker)})

    @staticmethod
    def _home(
        identity: CurrentSession,
        people: People,
        settings: Settings,
        *,
        email_notice: str | None = None,
        email_error: str | None = None,
        email_value: str | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            "idp_bridge/home.html",
            context={
                "person": identity.person,
                "session": identity.session,
                "roles": identity.roles,
                "nrn_masked": people.masked_nrn(identity.person),
                "loa_labels": LOA_LABELS,
                "role_labels": ROLE_LABELS,
                "email_notice": EMAIL_NOTICES.get(email_notice or ""),
                "email_error": email_error,
                "email_value": email_value,
                "link_hours": settings.mail.confirmation_link_hours,
            },
            status_code=status_code,
        )

    @get("/home", guards=[requires_login])
    async def home(
        self,
        request: Request[Any, Any, Any],
        people: NamedDependency[People],
        settings: NamedDependency[Settings],
        email: FromQuery[str | None] = None,
    ) -> Template:
        return self._home(current(request), people, settings, email_notice=email)

    @post("/home/email", guards=[requires_login], status_code=303)
    async def change_email_form(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        people: NamedDependency[People],
        emails: NamedDependency[EmailAddresses],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        identity = current(request)
        address = str((await request.form()).get("email", ""))
        try:
            _person, change = await emails.change(
                db, identity.person, address, request_actor(request)
            )
        except Invalid as exc:  # shown next to the form, with what was typed
            return self._home(
                identity,
                people,
                settings,
                email_error=gettext(exc.message),
                email_value=address,
                status_code=exc.status,
            )
        return Redirect(f"/home?email={change}", status_code=303)

    @post("/language", status_code=303)
    async def switch_language(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        people: NamedDependency[People],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        form = await request.form()
        language = str(form.get("language", ""))
        if language not in settings.languages:
            raise Invalid("This language is not available.", type="language-not-available")
        identity = identity_of(request)
        if identity is not None:
            await people.update_profile(db, identity.person, language=language)
        try:
            target = safe_next(str(form.get("next") or "/"))
        except LoginRefused:  # a bad `next` just goes to the start page
            target = "/"
        return Redirect(
            target, status_code=303, cookies=[language_cookie(language, settings.secure_cookies)]
        )


__all__ = [
    "LANGUAGE_COOKIE",
    "AuthController",
    "MeController",
    "PagesController",
    "identity_middleware",
    "jwks",
    "requires_login",
]
