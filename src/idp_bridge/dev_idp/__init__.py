"""The development OpenID provider: a stand-in for itsme and the federal service that only
development and test settings enable (production refuses it)."""

from idp_bridge.dev_idp.provider import DevIdentityProvider
from idp_bridge.dev_idp.routes import DevIdentityProviderController

__all__ = ["DevIdentityProvider", "DevIdentityProviderController"]
