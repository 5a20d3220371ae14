"""SAML single logout: our LogoutRequest when a citizen logs out (HTTP-POST or -Redirect
binding), and the provider's LogoutRequest (HTTP-Redirect) with our answer. pysaml2 builds
the messages; it does not require a provider's LogoutRequest to be signed, so the signature
check is here. These functions block (xmlsec1, RSA): the provider runs them in a worker
thread."""

from __future__ import annotations

import base64
import calendar
import json
from collections.abc import Mapping

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.s_utils import UnsupportedBinding
from saml2.samlp import LogoutRequest, logout_request_from_string
from saml2.sigver import verify_redirect_signature
from saml2.time_util import str_to_time
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp_bridge.domain import may_carry_nrn
from idp_bridge.interfaces import LogoutForm, LogoutToken
from idp_bridge.saml import policy
from idp_bridge.saml.policy import refused

LOGOUT_REQUEST_LIFETIME = 600  # seconds a LogoutRequest without NotOnOrAfter stays valid
REDIRECT_FIELDS = ("SAMLRequest", "RelayState", "SigAlg", "Signature")


def session_reference(name_id: saml.NameID, session_index: str) -> str:
    """What the session keeps to log out at the provider later (sealed, as `id_token`)."""
    return json.dumps({"name_id": str(name_id), "session_index": session_index})


def _redirect(client: Saml2Client, message: str, destination: str, **kwargs: object) -> str:
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT, message, destination, sign=True, sigalg=SIG_RSA_SHA256, **kwargs
    )
    return dict(info["headers"])["Location"]


def _logout_service(
    client: Saml2Client, idp: str, binding: str = BINDING_HTTP_REDIRECT
) -> dict[str, str] | None:
    try:
        services = client.metadata.single_logout_service(idp, binding, "idpsso")
    except UnsupportedBinding:  # the provider offers logout, but not by this binding
        return None
    return services[0] if services else None


def request(client: Saml2Client, idp: str, reference: str) -> str | LogoutForm | None:
    """A signed LogoutRequest for the session `reference` names: a form to post when the
    provider takes one (HTTP-POST binding), else a redirect URL. The NameID travels in a
    URL only when it cannot carry a national registry number: a provider that would need
    one there (an eIDAS NameID `BE/BE/<number>`) is not told, and only our session ends."""
    try:
        session = json.loads(reference)
        name_id = saml.name_id_from_string(session["name_id"])
    except (ValueError, KeyError, TypeError):
        return None
    if name_id is None:
        return None
    post = _logout_service(client, idp, BINDING_HTTP_POST)
    service = post or _logout_service(client, idp)
    if service is None or (post is None and may_carry_nrn(name_id.text or "")):
        return None
    _id, message = client.create_logout_request(
        service["location"],
        idp,
        name_id=name_id,
        session_indexes=[session["session_index"]] if session.get("session_index") else None,
        # Signed as XML when posted; the HTTP-Redirect binding signs the query string instead.
        sign=post is not None,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    if post is not None:
        encoded = base64.b64encode(str(message).encode()).decode()
        return LogoutForm(service["location"], {"SAMLRequest": encoded})
    return _redirect(client, str(message), service["location"])


def verified_request(
    client: Saml2Client, idp: str, query: Mapping[str, str], logout_url: str
) -> LogoutRequest:
    """The provider's LogoutRequest, if its query-string signature verifies."""
    if not all(query.get(k) for k in ("SAMLRequest", "SigAlg", "Signature")):
        raise refused("saml logout request unsigned")
    if query["SigAlg"] not in policy.SIGNATURE_ALGORITHMS:
        raise refused("saml logout signature algorithm")
    message = {k: query[k] for k in REDIRECT_FIELDS if k in query}
    certs = client.metadata.certs(idp, "idpsso", "signing")
    if not any(verify_redirect_signature(message, client.sec.sec_backend, c) for _n, c in certs):
        raise refused("saml logout signature")
    xml = client.unravel(query["SAMLRequest"], BINDING_HTTP_REDIRECT, "SAMLRequest")
    policy.check_message(xml.encode() if isinstance(xml, str) else xml)
    request = logout_request_from_string(xml)
    if request is None or request.issuer is None or request.issuer.text != idp:
        raise refused("saml logout issuer")
    if request.destination and request.destination != logout_url:
        raise refused("saml logout destination")
    return request


def token_of(request: LogoutRequest, now: float, skew: int) -> LogoutToken:
    """Whom a verified LogoutRequest logs out; refused outside its validity."""
    issued = calendar.timegm(str_to_time(request.issue_instant))
    expires = (
        calendar.timegm(str_to_time(request.not_on_or_after))
        if request.not_on_or_after
        else issued + LOGOUT_REQUEST_LIFETIME
    )
    if issued > now + skew or expires < now - skew:
        raise refused("saml logout request expired")
    if request.name_id is None or not request.name_id.text:
        raise refused("saml logout without name id")
    indexes = [i.text for i in request.session_index if i.text]
    return LogoutToken(
        subject=request.name_id.text.strip(),
        sid=indexes[0] if len(indexes) == 1 else None,
        jti=request.id,
        expires_at=max(expires, now) + skew,
    )


def response_url(client: Saml2Client, idp: str, request: LogoutRequest, relay_state: str) -> str:
    """Our signed LogoutResponse (success) to the provider, as a redirect URL."""
    service = _logout_service(client, idp)
    if service is None:
        raise refused("saml logout: the provider has no logout service")
    destination = service.get("response_location") or service["location"]
    response = client.create_logout_response(request, [BINDING_HTTP_REDIRECT], sign=False)
    return _redirect(client, str(response), destination, relay_state=relay_state, response=True)
