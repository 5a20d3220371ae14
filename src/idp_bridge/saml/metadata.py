"""A provider's metadata, checked against the certificate it is signed with (eIDAS nodes and
federations sign theirs). pysaml2 checks a signature only on metadata it fetches itself;
ours is fetched with the platform's TLS settings and size bound, so the check is here.
It blocks (xmlsec1): the provider runs it in a worker thread."""

from __future__ import annotations

from saml2.sigver import CryptoBackendXmlSec1, SignatureError

from idp_bridge.domain import LoginRefused
from idp_bridge.saml import policy

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
# The roots metadata may have, as ElementTree and xmlsec1 name them.
ROOTS = {
    f"{{{MD}}}EntityDescriptor": f"{MD}:EntityDescriptor",
    f"{{{MD}}}EntitiesDescriptor": f"{MD}:EntitiesDescriptor",
}


def check_signature(xml: bytes, certificate_file: str, xmlsec: CryptoBackendXmlSec1) -> None:
    """Refuses metadata unless its root is signed, whole, by the certificate in
    `certificate_file`. The signature must be the root's own (its first child, with a
    single reference to the root's ID), so that a signed fragment elsewhere in the document
    cannot vouch for the rest."""
    root = policy.check_message(xml)  # no DTD or entities; allowed algorithms only
    node_name, root_id = ROOTS.get(root.tag), root.get("ID")
    signature = root[0] if len(root) else None
    if node_name is None or not root_id or signature is None or signature.tag != f"{DS}Signature":
        raise _refused("saml metadata not signed")
    references = list(signature.iter(f"{DS}Reference"))
    if len(references) != 1 or references[0].get("URI") != f"#{root_id}":
        raise _refused("saml metadata signature does not cover it")
    try:
        valid = xmlsec.validate_signature(xml, certificate_file, "pem", node_name, root_id)
    except SignatureError:
        valid = False
    if not valid:
        raise _refused("saml metadata signature")


def _refused(check: str) -> LoginRefused:
    return LoginRefused("login-provider-unavailable", check=check)
