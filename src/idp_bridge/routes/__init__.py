"""HTTP for the identity domain: login, callback, logout, JWKS, the profile and its pages.

The history's routes are in `idp_bridge.history`."""

from idp_bridge.routes.access import (
    current,
    identity_middleware,
    identity_of,
    request_actor,
    requires_login,
)
from idp_bridge.routes.auth import AuthController, jwks
from idp_bridge.routes.profile import MeController, PagesController
from idp_bridge.routes.saml import SamlController
from kluis.web.i18n import LANGUAGE_COOKIE

__all__ = [
    "LANGUAGE_COOKIE",
    "AuthController",
    "MeController",
    "PagesController",
    "SamlController",
    "current",
    "identity_middleware",
    "identity_of",
    "jwks",
    "request_actor",
    "requires_login",
]
