"""HTTP of the SAML service provider that OpenID has no use for: our metadata, and single
logout (the provider's LogoutRequest, and its answer to ours). The assertion consumer
service is the common login callback (`POST /auth/callback/<provider>`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.domain import LoginRefused
from idp_bridge.routes.access import request_actor
from idp_bridge.saml import SAMLProvider
from idp_bridge.services import IdentityBroker, LogoutRefused, Sessions
from kluis.audit import Actor
from kluis.errors import NotFound
from kluis.text import N_


def _saml_provider(broker: IdentityBroker, name: str) -> SAMLProvider:
    provider = broker.providers.get(name)
    if not isinstance(provider, SAMLProvider):
        raise NotFound()
    return provider


class SamlController(Controller):
    path = "/auth/saml/{provider:str}"
    tags = ["identity"]
    include_in_schema = False

    @get("/metadata")
    async def metadata(
        self,
        db: NamedDependency[AsyncSession],
        broker: NamedDependency[IdentityBroker],
        provider: FromPath[str],
    ) -> Response[str]:
        saml = _saml_provider(broker, provider)
        document = await saml.metadata(await broker.rp_keys.keyring(db))
        return Response(
            document,
            media_type="application/samlmetadata+xml",
            headers={"cache-control": "public, max-age=3600"},
        )

    @get("/logout")
    async def logout(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        broker: NamedDependency[IdentityBroker],
        sessions: NamedDependency[Sessions],
        provider: FromPath[str],
    ) -> Response[Any]:
        saml = _saml_provider(broker, provider)
        query = {k: v for k, v in request.query_params.items()}
        if "SAMLResponse" in query:
            # The provider's answer to our LogoutRequest: the session ended before we sent it.
            return Redirect("/", status_code=303)
        try:
            claims, answer = await saml.answer_logout_request(
                query, await broker.rp_keys.keyring(db)
            )
        except LoginRefused as refusal:
            raise LogoutRefused() from refusal
        actor = Actor(label=N_("identity provider"), ip=request_actor(request).ip)
        await sessions.end_for_provider(db, provider, claims, actor)
        return Redirect(answer, status_code=303, headers={"cache-control": "no-store"})
