"""SAML 2.0 service provider (pysaml2, with the xmlsec1 command for XML signatures and
encryption): the federal service's SAML flavour and eIDAS nodes."""

from idp_bridge.saml.provider import SAMLProvider

__all__ = ["SAMLProvider"]
