"""Templates, static files, CSRF and security headers shared by every domain's pages."""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment
from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kluis.keys import KeyProvider
from kluis.settings import Settings
from kluis.web import i18n

WEB_DIR = Path(__file__).parent
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
# The request's Content-Security-Policy nonce: every <script> of a page carries it.
_CSP_NONCE: ContextVar[str] = ContextVar("csp_nonce", default="")


def csp_nonce() -> str:
    return _CSP_NONCE.get()


def template_config(settings: Settings, directories: list[Path]) -> TemplateConfig:
    def configure(engine: JinjaTemplateEngine) -> None:
        env: Environment = engine.engine
        env.add_extension("jinja2.ext.i18n")
        env.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
        )
        env.globals.update(
            current_language=i18n.current_language,
            language_names={k: i18n.LANGUAGE_NAMES.get(k, k) for k in settings.languages},
            development_notices=settings.development_stand_ins()
            if settings.env != "production"
            else [],
            csrf_header=CSRF_HEADER,
            csp_nonce=csp_nonce,
        )
        env.policies["ext.i18n.trimmed"] = True

    return TemplateConfig(
        directory=[WEB_DIR / "templates", *directories],
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )


def static_files() -> Router:
    return create_static_files_router(path="/static", directories=[WEB_DIR / "static"])


def csrf_config(settings: Settings, keys: KeyProvider) -> CSRFConfig:
    # Double-submit cookie as API.md states: cookie `csrftoken`, header `x-csrftoken`
    # (forms send `_csrf_token`). The cookie must be readable by the page's own script.
    # Routes that a provider's server calls opt out with `exclude_from_csrf=True`.
    return CSRFConfig(
        secret=keys.derive_secret("csrf").hex(),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
    )


class CookieCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, for what a browser's cookies authenticate.

    A request that an API client (an office's software, or the registry's) authenticated
    with a bearer token (the layer before this one left `office_software` or
    `registry_client` in its state) and that carries no session cookie is
    not one a forged page could make with someone's cookies: it needs no CSRF token. With a
    session cookie, the token is asked for as always.
    """

    def __init__(self, app: ASGIApp, config: CSRFConfig, session_cookie: str) -> None:
        super().__init__(app, config)
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        if scope["type"] == "http" and (
            state.get("office_software") or state.get("registry_client")
        ):
            if self.session_cookie not in ASGIConnection(scope).cookies:
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def csrf_middleware(settings: Settings, config: CSRFConfig) -> DefineMiddleware:
    """The CSRF check as the innermost application middleware (instead of Litestar's
    `csrf_config`, which cannot tell a bearer-token request from a cookie one). The app
    keeps `config` in its state too, for the page forms that stream files and check their
    token themselves (`kluis.web.multipart.check_form_token`)."""
    return DefineMiddleware(
        CookieCSRFMiddleware, config=config, session_cookie=settings.session_cookie
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The scope state entry naming another site a page's form posts to (a provider's logout
# endpoint, which need not share its metadata's origin): that answer's form-action allows it.
_FORM_TARGET = "csp_form_target"


def allow_form_target(scope: Scope, url: str) -> None:
    scope.setdefault("state", {})[_FORM_TARGET] = _origin(url)


def security_headers(settings: Settings):  # type: ignore[no-untyped-def]
    """ASGI middleware factory adding the security headers every response carries, with a
    fresh script nonce per request (`csp_nonce()` in templates)."""
    # Logging out may redirect a form post to a provider's end-session endpoint, and
    # Chromium applies form-action to such redirects.
    provider_origins = sorted(
        {_origin(p.url) for p in settings.providers.values()} - {settings.base_url}
    )
    # Scripts run only with the request's nonce ('strict-dynamic': what they load runs too);
    # no inline script or style, no eval, no plugin, no <base>, no framing.
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'nonce-{nonce}' 'strict-dynamic'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action " + " ".join(["'self'", *provider_origins]) + "{form_target}",
        ]
    )
    fixed = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if settings.secure_cookies:
        fixed.append(("strict-transport-security", "max-age=63072000; includeSubDomains"))

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            nonce = secrets.token_urlsafe(16)
            token = _CSP_NONCE.set(nonce)

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    target = scope.get("state", {}).get(_FORM_TARGET)
                    headers["content-security-policy"] = csp.format(
                        nonce=nonce, form_target=f" {target}" if target else ""
                    )
                    for name, value in fixed:
                        headers[name] = value
                    if "cache-control" not in headers:
                        headers["cache-control"] = "no-store"
                await send(message)

            try:
                await app(scope, receive, send_with_headers)
            finally:
                _CSP_NONCE.reset(token)

        return middleware

    return factory
