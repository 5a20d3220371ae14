"""HTTP for the profile and the identity pages: /api/v1/me, the e-mail address, home."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import REFUSALS, LoginRefused
from idp_bridge.routes.access import current, identity_of, request_actor, requires_login
from idp_bridge.routes.auth import login_choices
from idp_bridge.schemas import EmailAddressChange, Me, MePatch
from idp_bridge.services import (
    CurrentSession,
    EmailAddresses,
    EmailChange,
    IdentityBroker,
    People,
    safe_next,
)
from idp_bridge.services.email import EMAIL_CHANGED, EMAIL_CONFIRMED
from kluis.audit import ACTION_KINDS, ACTION_LABELS, REASON_LABELS, TRANSLATED_TARGETS
from kluis.errors import Invalid
from kluis.settings import Settings
from kluis.text import N_
from kluis.web.i18n import gettext, language_cookie

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
        succession_option=person.succession_option,
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
