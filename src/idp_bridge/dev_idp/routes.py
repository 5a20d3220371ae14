"""HTTP for the development OpenID provider (see `provider.py`), mounted at `/dev-idp/`."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from idp_bridge.dev_idp.provider import (
    PATH,
    DevIdentityProvider,
    OAuthFailure,
    PendingAuthorization,
)


def _oauth_error(failure: OAuthFailure) -> Response:
    return Response(
        content={"error": failure.error, "error_description": failure.description},
        status_code=failure.status,
    )


class DevIdentityProviderController(Controller):
    path = PATH
    include_in_schema = False

    @get("/.well-known/openid-configuration")
    async def discovery(self, dev_idp: NamedDependency[DevIdentityProvider]) -> dict[str, Any]:
        return dev_idp.metadata()

    @get("/jwks")
    async def jwks(self, dev_idp: NamedDependency[DevIdentityProvider]) -> dict[str, Any]:
        return {"keys": [dev_idp.sig.as_dict(private=False), dev_idp.enc.as_dict(private=False)]}

    @get("/authorize")
    async def authorize(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        try:
            client, params = await dev_idp.read_authorization(dict(request.query_params))
        except OAuthFailure as failure:
            return Template(
                "idp_bridge/dev_idp_error.html",
                context={"error": failure.error, "description": failure.description},
                status_code=400,
            )
        hint = str(params.get("login_hint") or "")
        if len(hint) == 11 and hint.isdigit():
            return Redirect(dev_idp.grant(client, params, dev_idp.person_for(hint), "high"))
        ticket = secrets.token_urlsafe(16)
        dev_idp.pending[ticket] = PendingAuthorization(client, params, time.time() + 600)
        return Template(
            "idp_bridge/dev_idp_chooser.html",
            context={
                "ticket": ticket,
                "citizens": dev_idp.demo.citizens,
                "flavour": client.flavour,
            },
        )

    @post("/authorize")
    async def choose(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        form = dict(await request.form())
        pending = dev_idp.pending.pop(str(form.get("ticket", "")), None)
        if pending is None or pending.expires < time.time():
            return Template(
                "idp_bridge/dev_idp_error.html",
                context={"error": "expired", "description": "start again"},
                status_code=400,
            )
        params = pending.params
        if form.get("cancel"):
            query = {"error": "access_denied", "state": params.get("state", "")}
            return Redirect(f"{params['redirect_uri']}?{urlencode(query)}")
        person = dev_idp.person_for(str(form.get("nrn", "")))
        level = str(form.get("level", "high"))
        return Redirect(dev_idp.grant(pending.client, params, person, level))

    @post("/token", exclude_from_csrf=True, status_code=200)
    async def token(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = await dev_idp.authenticate_client(
                request.headers.get("authorization", ""), form
            )
            grant = dev_idp.codes.pop(form.get("code", ""), None)
            if (
                grant is None
                or grant.expires < time.time()
                or grant.client.client_id != client.client_id
                or grant.redirect_uri != form.get("redirect_uri")
            ):
                raise OAuthFailure("invalid_grant", "unknown, used or expired code")
            verifier = form.get("code_verifier", "")
            if not verifier or create_s256_code_challenge(verifier) != grant.code_challenge:
                raise OAuthFailure("invalid_grant", "PKCE verification failed")
            return Response(await dev_idp.token_response(grant))
        except OAuthFailure as failure:
            return _oauth_error(failure)

    @get("/userinfo")
    async def userinfo(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        grant = dev_idp.tokens.get(token)
        if grant is None:
            return _oauth_error(OAuthFailure("invalid_token", "unknown access token", 401))
        claims = {"sub": dev_idp.subject(grant), **dev_idp.person_claims(grant)}
        if grant.client.flavour == "fas":
            return Response(claims)
        signed = dev_idp.sign({**claims, "iss": dev_idp.issuer, "aud": grant.client.client_id})
        return Response(await dev_idp.encrypt_for_client(signed), media_type="application/jwt")

    @get("/end-session")
    async def end_session(
        self, request: Request, dev_idp: NamedDependency[DevIdentityProvider]
    ) -> Response:
        target = request.query_params.get("post_logout_redirect_uri", "")
        if not target.startswith(dev_idp.post_logout_base):
            target = dev_idp.post_logout_base
        return Redirect(target)
