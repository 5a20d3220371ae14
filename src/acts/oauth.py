"""OAuth 2 for the offices' own software and the population register's: the token endpoint
(client credentials, client authentication `private_key_jwt`, RFC 7523) and the
bearer-token layer in front of the API.

Authlib's authorization server decides; this module is its thin Litestar adapter: a request
wrapper, the response, and the three things authlib asks the platform (which client, was
this assertion id used, keep this token). Authlib is synchronous, so the token request runs
in a worker thread and those three calls come back to the event loop for the database.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import anyio.from_thread
import anyio.to_thread
import msgspec
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidScopeError,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from litestar import Request, Response, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import RegistryClient
from acts.api_clients import OFFICE, REGISTRY, TOKEN_LIFETIME, OfficeClients, new_token
from acts.models import OfficeApiClient
from kluis.settings import Settings
from kluis.text import N_
from kluis.web.i18n import gettext
from kluis.web.openapi import TEXT, reads_body

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
AUTH_METHOD = "private_key_jwt"
# One scope per kind of client: acting for the client's own office, or pushing death notices.
SCOPES = {OFFICE: "office", REGISTRY: "death-notices"}
# An assertion is made for one token request: it may not claim to live longer than this.
MAX_ASSERTION_LIFETIME = 300
ASSERTION_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "EdDSA"]


def token_url(settings: Settings) -> str:
    """The token endpoint's URL: the audience every client assertion names."""
    return settings.base_url + TOKEN_PATH


class Client(ClientMixin):
    """A registered client (an office's software or the register's) as authlib sees it:
    confidential, client credentials only, authenticating with a signed assertion."""

    def __init__(self, row: OfficeApiClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == AUTH_METHOD and endpoint == "token"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == ClientCredentialsGrant.GRANT_TYPE

    @property
    def scope(self) -> str:
        """The one scope its kind may ask for."""
        return SCOPES[self.row.kind]

    def get_allowed_scope(self, scope: str) -> str:
        return self.scope if scope == self.scope else ""


class FormPayload(OAuth2Payload):
    def __init__(self, form: dict[str, str]) -> None:
        self._data = form

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: [value] for key, value in self._data.items()}


class TokenRequest(OAuth2Request):
    """A Litestar token request for authlib, with the database session it works in."""

    def __init__(self, url: str, headers: dict[str, str], form: dict[str, str], db: AsyncSession):
        super().__init__("POST", url, headers=headers)
        self.payload = FormPayload(form)
        self._form = form
        self.db = db

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class PrivateKeyJWT(JWTBearerClientAssertion):
    """`private_key_jwt`: the client signs an assertion with a key of its registered JWKS;
    audience the token endpoint, a short life, and an id (`jti`) never accepted twice."""

    CLIENT_AUTH_METHOD = AUTH_METHOD

    def __init__(self, server: TokenServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server

    def get_audiences(self) -> list[str]:
        return [self.server.audience]

    def resolve_client_public_key(self, client: Client) -> KeySet:
        return KeySet.import_key_set(client.row.jwks)

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="The assertion's signature is not valid.") from exc
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: Any) -> None:
        expires = claims.get("exp")
        if isinstance(expires, int | float) and expires > time.time() + MAX_ASSERTION_LIFETIME:
            raise InvalidClientError(description="The assertion may live at most 5 minutes.")
        try:
            super().verify_claims(claims)
        except ValueError as exc:  # a description authlib may not send as it is
            raise InvalidClientError(description="The assertion's claims are not valid.") from exc

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        request = self.server.request
        if request is None or not isinstance(jti, str) or not jti:
            return False
        expires = datetime.fromtimestamp(claims["exp"] + self.leeway, UTC)
        return anyio.from_thread.run(
            self.server.clients.use_assertion, request.db, request.client.row, jti, expires
        )


class OfficeCredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]

    def validate_requested_scope(self) -> None:
        """A known scope, and the client's own: the register's software may not ask for
        `office`, nor an office's for `death-notices`."""
        super().validate_requested_scope()
        scope = self.request.payload.scope
        if scope and set(scope_to_list(scope)) != {self.request.client.scope}:
            raise InvalidScopeError()


class TokenServer(AuthorizationServer):
    """One token request's authorization server (authlib keeps per-request state in it)."""

    def __init__(self, clients: OfficeClients, audience: str) -> None:
        super().__init__(scopes_supported=list(SCOPES.values()))
        self.clients = clients
        self.audience = audience
        self.register_grant(OfficeCredentialsGrant)
        self.register_client_auth_method(AUTH_METHOD, PrivateKeyJWT(self))
        self.register_token_generator("default", self.bearer_token)
        self.request: TokenRequest | None = None

    def create_oauth2_request(self, request: TokenRequest) -> TokenRequest:
        self.request = request
        return request

    def query_client(self, client_id: str) -> Client | None:
        if self.request is None:
            return None
        row = anyio.from_thread.run(self.clients.active, self.request.db, client_id)
        return Client(row) if row is not None else None

    def bearer_token(self, **_: Any) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": new_token(),
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        }

    def save_token(self, token: dict[str, Any], request: TokenRequest) -> None:
        anyio.from_thread.run(
            self.clients.issue, request.db, request.client.row, token["access_token"]
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_error_response(self, request: TokenRequest, error: Any) -> Response[Any]:
        if isinstance(error, InvalidClientError):
            error.status_code = 401  # with a WWW-Authenticate header, as RFC 6749 5.2 asks
        return super().handle_error_response(request, error)

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> Response[Any]:
        return Response(
            content=msgspec.json.encode(body),
            status_code=status,
            # authlib's: Cache-Control no-store, Pragma no-cache, WWW-Authenticate on a 401
            headers={k: v for k, v in headers if k.lower() != "content-type"},
            media_type="application/json",
        )


class AccessToken(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    scope: str | None = None


class OAuthError(msgspec.Struct):
    """RFC 6749 section 5.2: the token endpoint refuses in OAuth's words, not as a problem."""

    error: str
    error_description: str | None = None


TOKEN_REQUEST = reads_body(
    "A client-credentials grant, the client authenticated by a signed assertion",
    {
        "application/x-www-form-urlencoded": Schema(
            type=OpenAPIType.OBJECT,
            required=["grant_type", "client_assertion_type", "client_assertion"],
            properties={
                "grant_type": Schema(type=OpenAPIType.STRING, enum=["client_credentials"]),
                "client_assertion_type": Schema(
                    type=OpenAPIType.STRING, enum=[JWTBearerClientAssertion.CLIENT_ASSERTION_TYPE]
                ),
                "client_assertion": TEXT,
                "scope": Schema(type=OpenAPIType.STRING, enum=list(SCOPES.values())),
            },
        )
    },
)


@post(
    TOKEN_PATH,
    exclude_from_csrf=True,
    status_code=200,
    tags=["office software"],
    operation_class=TOKEN_REQUEST,
    responses={
        200: ResponseSpec(AccessToken, description="An access token"),
        400: ResponseSpec(OAuthError, description="The grant is not valid"),
        401: ResponseSpec(OAuthError, description="The client is not known or not proven"),
    },
)
async def token_endpoint(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Response[Any]:
    """OAuth 2 token endpoint for an office's or the population register's software:
    `grant_type=client_credentials`, authenticated by `client_assertion` (`private_key_jwt`,
    RFC 7523); see docs/office-software.md."""
    platform = request.app.state.platform
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    server = TokenServer(platform.office_clients, token_url(settings))
    oauth_request = TokenRequest(token_url(settings), dict(request.headers), form, db)
    response: Response[Any] = await anyio.to_thread.run_sync(
        server.create_token_response, oauth_request
    )
    return response


# -- the bearer token in front of the API --------------------------------------------------

INVALID_TOKEN = N_("This access token is not valid or has expired.")


async def _refuse_token(send: Send) -> None:
    title = gettext(INVALID_TOKEN)
    body = msgspec.json.encode(
        {"type": "invalid-token", "title": title, "status": 401, "detail": title}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer error="invalid_token"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def bearer_token(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer …`, if the request carries one."""
    header = ASGIConnection(scope).headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def office_software_middleware(app: ASGIApp) -> ASGIApp:
    """Before guards and handlers: who a bearer token stands for, on the request's state:
    an office's software (`office_software`) or the population register's
    (`registry_client`; no office route, no citizen route knows it). Only the API (`/api/`)
    takes these tokens (other bearer tokens, such as the development identity provider's,
    are not ours); an API request with a token that is not (or no longer) valid is refused
    here, whatever its route."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            token = bearer_token(scope)
            if token is not None:
                platform = scope["litestar_app"].state.platform
                async with platform.session_maker() as db:
                    caller = await platform.office_clients.caller(db, token)
                if caller is None:
                    await _refuse_token(send)
                    return
                key = "registry_client" if isinstance(caller, RegistryClient) else "office_software"
                scope.setdefault("state", {})[key] = caller
        await app(scope, receive, send)

    return middleware
