"""A real SAML identity provider on loopback: pysaml2's own IdP (`saml2.server.Server`) behind
a small ASGI app, for the platform's SAML service provider to talk to over HTTP.

It publishes its metadata, reads the platform's from the platform's metadata endpoint,
verifies signed AuthnRequests and LogoutRequests, and answers with an auto-posting form as
the POST binding does. Tests build hostile answers with `respond(..., mutate=...)` and the
wrapping helpers below.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import html
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import KeySet, RSAKey
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, samlp
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI
from saml2.server import Server
from saml2.sigver import (
    SecurityContext,
    get_pem_wrapped_unwrapped,
    make_temp,
    pre_encryption_part,
    pre_signature_part,
    verify_redirect_signature,
)
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp_bridge.interfaces import Keyring
from idp_bridge.saml.provider import SAMLProvider
from kluis.settings import SamlProviderSettings
from tests.support.net import ServerThread, free_port, self_signed_certificate

AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
EIDAS = "http://eidas.europa.eu/attributes/naturalperson/"
NS = {
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def key_pair(folder: Path, name: str) -> tuple[str, str]:
    """A fresh RSA key (XML signatures here are RSA) and a self-signed certificate for it:
    (key file, certificate file)."""
    (folder / name).mkdir()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert_file, key_file = self_signed_certificate(folder / name, key)
    return str(key_file), str(cert_file)


class _AsNamed(AttributeConverter):
    """Attributes go out under the names the profile uses (pysaml2's own converters would
    rename `mail` to an OID, and its no-op converter lower-cases every name)."""

    def to_(self, attrvals: dict[str, Any]) -> list[saml.Attribute]:
        return [
            saml.Attribute(
                name=name,
                name_format=self.name_format,
                attribute_value=[saml.AttributeValue(text=str(value))],
            )
            for name, value in attrvals.items()
        ]


class _Server(Server):
    """pysaml2's IdP encrypts with 3DES-CBC; this one uses what `encryption` names."""

    encryption = AES256_GCM

    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):  # type: ignore[no-untyped-def]
        if not encrypt_cert:
            encrypt_cert = self.metadata.certs(sp_entity_id, "any", "encryption")[0][1]
        wrapped, unwrapped = get_pem_wrapped_unwrapped(encrypt_cert)
        cert_file = make_temp(wrapped.encode(), decode=False)
        template = pre_encryption_part(
            msg_enc=self.encryption, key_enc=RSA_OAEP, encrypt_cert=unwrapped
        )
        key_type = "aes-256" if "256" in self.encryption else "aes-128"
        return self.sec.encrypt_assertion(
            response, cert_file.name, template, key_type=key_type, node_xpath=node_xpath
        )


@dataclass
class User:
    """Who logs in at this IdP: a NameID, attributes by name, an authentication context."""

    name_id: str
    attributes: dict[str, str]
    class_ref: str
    session_index: str = ""  # the last session the IdP opened for this user


def eidas_user(nrn: str, *, country: str = "BE", loa: str = "high") -> User:
    return User(
        # As many eIDAS nodes do: the PersonIdentifier is the NameID too.
        name_id=f"{country}/BE/{nrn}",
        attributes={
            f"{EIDAS}PersonIdentifier": f"{country}/BE/{nrn}",
            f"{EIDAS}CurrentGivenName": "Jan",
            f"{EIDAS}CurrentFamilyName": "Peeters",
            f"{EIDAS}DateOfBirth": "1985-07-30",
        },
        class_ref=f"http://eidas.europa.eu/LoA/{loa}",
    )


def fas_user(nrn: str, *, level: str = "Level500") -> User:
    return User(
        name_id=f"fas-{hashlib.sha256(nrn.encode()).hexdigest()[:24]}",  # opaque, persistent
        attributes={
            "egovNRN": nrn,
            "givenName": "Jan",
            "surname": "Peeters",
            "mail": "jan.peeters@example.test",
            "PrefLanguage": "nl",
        },
        class_ref=f"urn:be:fedict:iam:fas:{level}",
    )


@dataclass
class Received:
    """An AuthnRequest the IdP accepted."""

    id: str
    acs: str
    relay_state: str
    sp: str
    xml: str


class SamlIdentityProvider:
    def __init__(self, folder: Path, *, post_logout: bool = True) -> None:
        """`post_logout`: the IdP also takes LogoutRequests by the HTTP-POST binding."""
        self.post_logout = post_logout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.url}/metadata"
        self.key_file, self.cert_file = key_pair(folder, "idp")
        self.sp_metadata_urls: list[str] = []
        self.user: User | None = None
        self.encrypt = True
        self.logout_requests: list[samlp.LogoutRequest] = []
        self._server: _Server | None = None
        # Signed, as eIDAS nodes sign theirs (the eIDAS profile checks it, the other not).
        self.metadata = str(
            create_metadata_string(
                None,
                self._config(),
                4,
                sign=True,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
        )
        self._serving = ServerThread(self.app, self.port, interface="asgi3")

    def _config(self, sp_metadata: list[str] | None = None) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "metadata": {"inline": sp_metadata or []},
                "accepted_time_diff": 60,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(f"{self.url}/sso", BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [
                                (f"{self.url}/slo", BINDING_HTTP_REDIRECT),
                                *(
                                    [(f"{self.url}/slo", BINDING_HTTP_POST)]
                                    if self.post_logout
                                    else []
                                ),
                            ],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "want_authn_requests_signed": True,
                        "signing_algorithm": SIG_RSA_SHA256,
                        "digest_algorithm": DIGEST_SHA256,
                    }
                },
            }
        )
        config.attribute_converters = [_AsNamed(NAME_FORMAT_URI)]
        return config

    # -- running ------------------------------------------------------------------------

    def start(self) -> None:
        self._serving.start()

    def stop(self) -> None:
        self._serving.stop()

    @property
    def server(self) -> _Server:
        """The IdP, knowing the platform's metadata (read over HTTP at first use)."""
        if self._server is None:
            documents = [httpx.get(url, timeout=10).text for url in self.sp_metadata_urls]
            self._server = _Server(config=self._config(documents))
        return self._server

    async def app(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        path = scope["path"]
        status, headers, body = 404, [], b"not found"
        if path == "/metadata":
            status, headers, body = (
                200,
                [(b"content-type", b"application/samlmetadata+xml")],
                self.metadata.encode(),
            )
        elif path == "/sso":
            status, headers, body = self._sso(query)
        elif path == "/slo" and scope["method"] == "POST":
            form = {k: v[0] for k, v in parse_qs((await _body(receive)).decode()).items()}
            status, headers, body = self._slo_post(form)
        elif path == "/slo":
            status, headers, body = self._slo(query)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _sso(self, query: dict[str, str]) -> tuple[int, list, bytes]:
        received = self.read_request(query)
        if self.user is None:
            return 403, [], b"nobody logs in"
        answer = self.respond(received, self.user, encrypt=self.encrypt)
        return (
            200,
            [(b"content-type", b"text/html")],
            self.form(received.acs, answer, received.relay_state).encode(),
        )

    def _slo(self, query: dict[str, str]) -> tuple[int, list, bytes]:
        server = self.server
        request = server.parse_logout_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        if not server.sec.metadata or not _redirect_signed(server, query, request.issuer.text):
            return 400, [], b"unsigned logout request"
        return self._logged_out(request)

    def _slo_post(self, form: dict[str, str]) -> tuple[int, list, bytes]:
        # pysaml2 verifies a signature it finds, against the SP's metadata; one must be there.
        request = self.server.parse_logout_request(form["SAMLRequest"], BINDING_HTTP_POST)
        if request.message.signature is None:
            return 400, [], b"unsigned logout request"
        return self._logged_out(request)

    def _logged_out(self, request: Any) -> tuple[int, list, bytes]:
        """Our signed LogoutResponse, by redirect to the SP's logout endpoint."""
        server = self.server
        self.logout_requests.append(request.message)
        response = server.create_logout_response(
            request.message, [BINDING_HTTP_REDIRECT], sign=False
        )
        destination = request.message.issuer.text.replace("/metadata", "/logout")
        location = self._redirect(response, destination, response=True)
        return 303, [(b"location", location.encode())], b""

    def _redirect(self, message: Any, destination: str, *, signed: bool = True, **kw: Any) -> str:
        """`message` by the HTTP-Redirect binding, its query string signed unless told."""
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(message),
            destination,
            sign=signed,
            sigalg=SIG_RSA_SHA256 if signed else None,
            **kw,
        )
        return dict(info["headers"])["Location"]

    # -- messages -----------------------------------------------------------------------

    def read_request(self, query: dict[str, str]) -> Received:
        """Verify a signed AuthnRequest of the redirect binding (pysaml2 refuses unsigned)."""
        parsed = self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        message = parsed.message
        received = Received(
            id=message.id,
            acs=message.assertion_consumer_service_url,
            relay_state=query.get("RelayState", ""),
            sp=message.issuer.text,
            xml=parsed.xmlstr.decode() if isinstance(parsed.xmlstr, bytes) else parsed.xmlstr,
        )
        return received

    def request_from_url(self, url: str) -> Received:
        return self.read_request({k: v[0] for k, v in parse_qs(urlsplit(url).query).items()})

    def respond(
        self,
        received: Received,
        user: User,
        *,
        encrypt: bool = False,
        encryption: str = AES256_GCM,
        sign_assertion: bool = True,
        sign_response: bool = False,
        sign_alg: str = SIG_RSA_SHA256,
        digest_alg: str = DIGEST_SHA256,
        in_response_to: str | None = "",
        audience: str | None = None,
        mutate: Callable[[saml.Assertion], None] | None = None,
        status: tuple[str, str] | None = None,
        sec: SecurityContext | None = None,
    ) -> str:
        """A base64 SAMLResponse to `received`, as the POST binding carries it. `mutate`
        changes the assertion before it is signed, by the IdP's key or `sec`'s (then the
        assertion goes unencrypted)."""
        if (mutate is not None or sec is not None) and encrypt:
            raise ValueError("an assertion signed here is not encrypted")
        server = self.server
        server.encryption = encryption
        name_id = _name_id(user)
        if status is not None:
            return _b64(server.create_error_response(received.id, received.acs, status))
        kwargs: dict[str, Any] = {
            "identity": dict(user.attributes),
            "in_response_to": received.id if in_response_to == "" else in_response_to,
            "destination": received.acs,
            "sp_entity_id": audience or received.sp,
            "name_id": name_id,
            "authn": {"class_ref": user.class_ref, "authn_auth": self.entity_id},
            "sign_response": sign_response,
            "sign_assertion": sign_assertion and mutate is None and sec is None,
            "encrypt_assertion": encrypt,
            "sign_alg": sign_alg,
            "digest_alg": digest_alg,
        }
        response = server.create_authn_response(**kwargs)
        [*_, statement] = server.session_db.get_authn_statements(name_id)
        user.session_index = statement[0].session_index  # a list of one authn statement
        if mutate is not None or sec is not None:
            # Change the assertion, then sign it as the IdP (or `sec`'s owner) would have.
            parsed = samlp.response_from_string(str(response))
            [assertion] = parsed.assertion
            if mutate is not None:
                mutate(assertion)
            if sign_assertion:
                sec = sec or server.sec
                assertion.signature = pre_signature_part(
                    assertion.id, sec.my_cert, 1, sign_alg=sign_alg, digest_alg=digest_alg
                )
                response = sec.sign_statement(
                    str(parsed),
                    node_name="urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                    node_id=assertion.id,
                )
            else:
                response = parsed
        return _b64(response)

    def logout_request(self, sp_logout_url: str, user: User, *, signed: bool = True) -> str:
        """A LogoutRequest for `user`'s session, as a redirect URL to the platform."""
        _id, request = self.server.create_logout_request(
            sp_logout_url,
            self.entity_id,
            name_id=_name_id(user),
            session_indexes=[user.session_index],
            sign=False,
        )
        return self._redirect(request, sp_logout_url, signed=signed, relay_state="bye")

    @staticmethod
    def form(acs: str, saml_response: str, relay_state: str) -> str:
        return (
            f'<form method="post" action="{html.escape(acs)}">'
            f'<input type="hidden" name="SAMLResponse" value="{saml_response}">'
            f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
            "</form>"
        )


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of an auto-posting form."""
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
    }
    return action, fields


async def _body(receive: Callable) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def _redirect_signed(server: Server, query: dict[str, str], issuer: str) -> bool:
    message = {
        k: query[k] for k in ("SAMLRequest", "RelayState", "SigAlg", "Signature") if k in query
    }
    if "Signature" not in message:
        return False
    certs = server.metadata.certs(issuer, "any", "signing")
    return any(verify_redirect_signature(message, server.sec.sec_backend, c) for _n, c in certs)


# -- signature wrapping (XSW): a signed response rearranged around an evil assertion --------


def _tree(saml_response: str) -> ET.Element:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    return ET.fromstring(base64.b64decode(saml_response))  # noqa: S314 - our own IdP's answer


def _encode(root: ET.Element) -> str:
    return base64.b64encode(ET.tostring(root)).decode()


def _evil(assertion: ET.Element, nrn_attribute: str, nrn: str, *, keep_id: bool) -> ET.Element:
    evil = copy.deepcopy(assertion)
    for signature in evil.findall("ds:Signature", NS):
        evil.remove(signature)
    if not keep_id:
        evil.set("ID", "_evil" + assertion.get("ID", ""))
    for attribute in evil.iter(f"{{{NS['saml']}}}Attribute"):
        if attribute.get("Name") == nrn_attribute:
            value = attribute.find("saml:AttributeValue", NS)
            assert value is not None
            value.text = nrn
    return evil


def wrapped(saml_response: str, variant: str, nrn_attribute: str, nrn: str) -> str:
    """The response with an unsigned assertion naming `nrn` placed where a careless verifier
    would read it while the signature still checks out on the original."""
    root = _tree(saml_response)
    original = root.find("saml:Assertion", NS)
    assert original is not None
    evil = _evil(original, nrn_attribute, nrn, keep_id=variant == "same-id-before")
    index = list(root).index(original)
    if variant in ("evil-before", "same-id-before"):
        root.insert(index, evil)
    elif variant == "evil-after":
        root.insert(index + 1, evil)
    elif variant == "original-inside-evil":
        root.remove(original)
        evil.append(original)
        root.insert(index, evil)
    elif variant == "original-in-signature-object":
        root.remove(original)
        signature = copy.deepcopy(original.find("ds:Signature", NS))
        assert signature is not None
        obj = ET.SubElement(signature, f"{{{NS['ds']}}}Object")
        obj.append(original)
        evil.insert(1, signature)
        root.insert(index, evil)
    elif variant == "original-in-extensions":
        root.remove(original)
        extensions = ET.Element(f"{{{NS['samlp']}}}Extensions")
        extensions.append(original)
        root.insert(1, extensions)
        root.insert(index + 1, evil)
    else:
        raise ValueError(variant)
    return _encode(root)


def _b64(message: object) -> str:
    """A SAML message as the POST binding carries it."""
    return base64.b64encode(str(message).encode()).decode()


def _name_id(user: User) -> saml.NameID:
    return saml.NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=user.name_id)


def tampered(saml_response: str, old: str, new: str) -> str:
    """The signed response with a value changed after signing."""
    xml = base64.b64decode(saml_response).decode()
    assert old in xml
    return _b64(xml.replace(old, new))


def with_doctype(saml_response: str) -> str:
    """An entity-expansion (billion laughs) prologue before the response."""
    xml = base64.b64decode(saml_response).decode().split("?>", 1)[-1]
    prologue = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    return _b64(prologue + xml)


def offline_provider(
    idp: SamlIdentityProvider, clock: Callable[[], float] = time.time, **settings: Any
) -> SAMLProvider:
    """The platform's SAML provider for `idp`, reading its metadata from memory, not HTTP
    (what `idp.metadata` holds when asked): for tests of the provider alone."""
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, text=idp.metadata))
    config = SamlProviderSettings(
        label="eIDAS", metadata_url="https://idp.test/metadata", **settings
    )
    return SAMLProvider("eidas", config, "https://kluis.test", transport=transport, clock=clock)


@functools.cache
def rp_keyring() -> Keyring:
    """Relying-party keys for tests of the provider alone: one RSA key for every use."""
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)
    return Keyring(signing=key, encryption=key, decryption=KeySet([key]))
