"""A generic OpenID Connect relying party, configured entirely by `ProviderSettings`."""

from idp_bridge.oidc.jose import BACKCHANNEL_EVENT, JWE_ALGORITHMS
from idp_bridge.oidc.provider import OIDCProvider

__all__ = ["BACKCHANNEL_EVENT", "JWE_ALGORITHMS", "OIDCProvider"]
