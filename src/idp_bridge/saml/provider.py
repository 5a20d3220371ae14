"""A SAML 2.0 service provider, configured entirely by `SamlProviderSettings`.

pysaml2 builds and parses the messages; xmlsec1 does the XML signatures and encryption.
What is written here is the policy pysaml2 leaves to the caller: signed assertions only,
the algorithms (`policy`), binding a response to the one login that asked for it, reading
the profile's attributes, and single logout in both directions.

Replay: the AuthnRequest's ID is derived from the login attempt's nonce and pysaml2 accepts
only a response `InResponseTo` it; the attempt (found by RelayState) is single-use.
pysaml2 is synchronous and runs xmlsec1 as a child process: its calls run in a worker thread.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import anyio.to_thread
import httpx
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError
from saml2.saml import NAME_FORMAT_URI
from saml2.sigver import CryptoBackendXmlSec1, get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp_bridge.domain import LoginRefused
from idp_bridge.interfaces import (
    Keyring,
    LoginRequest,
    LogoutForm,
    LogoutToken,
    VerifiedIdentity,
)
from idp_bridge.oidc.documents import BoundedTransport
from idp_bridge.saml import logout, metadata, policy
from idp_bridge.saml.certificates import KeyFiles
from idp_bridge.saml.policy import refused
from kluis.settings import SamlProviderSettings

log = logging.getLogger(__name__)

MAX_METADATA_BYTES = 2 * 1024 * 1024
METADATA_VALID_HOURS = 24 * 7


class _XmlSec1(CryptoBackendXmlSec1):
    """pysaml2's xmlsec1 backend asks `xmlsec1 --version` in a child process before every
    operation (two or three times per login); the binary does not change while we run."""

    @functools.cached_property
    def version(self) -> str:  # type: ignore[override]
        return str(CryptoBackendXmlSec1.version.fget(self))  # type: ignore[attr-defined]


def request_id(login: LoginRequest) -> str:
    """The AuthnRequest's ID: an NCName bound to this login's nonce."""
    return f"_{login.nonce}"


def _first(values: Mapping[str, list[str]], name: str | None) -> str | None:
    found = values.get(name or "") or []
    return found[0].strip() if found and found[0].strip() else None


class SAMLProvider:
    posts_back = True
    state_parameter = "RelayState"

    def __init__(
        self,
        name: str,
        config: SamlProviderSettings,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.config = config
        self.label = config.label
        self.min_loa = config.min_loa
        self.entity_id = config.entity_id or f"{base_url}/auth/saml/{name}/metadata"
        self.acs_url = f"{base_url}/auth/callback/{name}"
        self.logout_url = f"{base_url}/auth/saml/{name}/logout"
        self._transport = transport
        self._clock = clock
        self._files = KeyFiles(self.entity_id)
        self._metadata: tuple[str, float] | None = None
        self._client: tuple[tuple[Any, ...], Saml2Client, str] | None = None
        self._own_metadata: tuple[tuple[str, str], str] | None = None
        self._xmlsec = _XmlSec1(get_xmlsec_binary())

    # -- configuration ------------------------------------------------------------------

    def _sp_config(self, keys: Keyring, *, decrypt_with_all: bool) -> dict[str, Any]:
        key_file, cert_file = self._files.pair(keys.signing)
        encryption = [keys.encryption]
        if decrypt_with_all:  # the metadata names the current key; older ones still decrypt
            encryption += [k for k in keys.decryption.keys if k.kid != keys.encryption.kid]
        pairs = [self._files.pair(k) for k in encryption]  # type: ignore[arg-type]
        c = self.config
        sp: dict[str, Any] = {
            "endpoints": {
                "assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)],
                "single_logout_service": [(self.logout_url, BINDING_HTTP_REDIRECT)],
            },
            "name_id_format": [c.name_id_format],
            "authn_requests_signed": True,
            "logout_requests_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": False,
            "allow_unsolicited": False,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "force_authn": c.force_authn,
        }
        if c.authn_context_class_refs:
            sp["requested_authn_context"] = {
                "authn_context_class_ref": c.authn_context_class_refs,
                "comparison": c.authn_context_comparison,
            }
        if c.eidas_sp_type:
            sp["sp_type"] = c.eidas_sp_type
            sp["sp_type_in_metadata"] = False
        if c.eidas_requested_attributes:
            sp["requested_attributes"] = [
                {"name": name, "name_format": NAME_FORMAT_URI, "required": required}
                for name, required in c.eidas_requested_attributes.items()
            ]
        return {
            "entityid": self.entity_id,
            "key_file": key_file,
            "cert_file": cert_file,
            "encryption_keypairs": [{"key_file": k, "cert_file": f} for k, f in pairs],
            "accepted_time_diff": c.clock_skew_seconds,
            "allow_unknown_attributes": True,
            "service": {"sp": sp},
        }

    async def _idp_metadata(self) -> str:
        """The identity provider's metadata, fetched again after `metadata_max_age_seconds`;
        a stale copy serves while the provider cannot be reached."""
        now = self._clock()
        if self._metadata and now - self._metadata[1] < self.config.metadata_max_age_seconds:
            return self._metadata[0]
        bounded = BoundedTransport(self._transport, limit=MAX_METADATA_BYTES)
        try:
            async with httpx.AsyncClient(timeout=5.0, transport=bounded) as http:
                response = await http.get(self.config.metadata_url)
            if response.status_code != 200:
                raise httpx.HTTPError(f"metadata answered {response.status_code}")
            if self.config.metadata_certificate:  # parsed as below, and its signature checked
                certificate = self._files.certificate(self.config.metadata_certificate)
                await anyio.to_thread.run_sync(
                    metadata.check_signature, response.content, certificate, self._xmlsec
                )
            else:
                policy.parse(response.content)  # no DTD, no entities
            self._metadata = (response.text, now)
        except (httpx.HTTPError, LoginRefused) as exc:
            if self._metadata is None:
                if isinstance(exc, LoginRefused) and exc.reason == "login-provider-unavailable":
                    raise  # the metadata's signature: its own check
                raise LoginRefused("login-provider-unavailable", check="saml metadata") from exc
            log.warning("SAML provider %s: metadata not refreshed (%s)", self.name, exc)
        return self._metadata[0]

    async def client(self, keys: Keyring) -> tuple[Saml2Client, str]:
        """pysaml2's client for these keys and the current metadata, and the IdP entity id."""
        metadata = await self._idp_metadata()
        kids = sorted(str(k.kid) for k in keys.decryption.keys)
        cache_key = (metadata, keys.signing.kid, keys.encryption.kid, *kids)
        if self._client is None or self._client[0] != cache_key:
            built = await anyio.to_thread.run_sync(self._build_client, metadata, keys)
            self._client = (cache_key, *built)
        return self._client[1], self._client[2]

    def _build_client(self, metadata: str, keys: Keyring) -> tuple[Saml2Client, str]:
        conf = self._sp_config(keys, decrypt_with_all=True)
        conf["metadata"] = {"inline": [metadata]}
        try:
            config = SPConfig()
            config.load(conf)
            client = Saml2Client(config)
            client.sec.crypto = self._xmlsec
        except Exception as exc:  # pysaml2 raises anything from a bad metadata document
            raise LoginRefused("login-provider-error", check="saml metadata unusable") from exc
        idps = list(client.metadata.identity_providers())
        wanted = self.config.idp_entity_id
        if (wanted not in idps) if wanted else len(idps) != 1:
            raise LoginRefused("login-provider-error", check="saml metadata: which idp")
        return client, wanted or idps[0]

    async def metadata(self, keys: Keyring) -> str:
        """Our own metadata, signed: entity id, endpoints, signing and encryption keys."""
        kids = (str(keys.signing.kid), str(keys.encryption.kid))
        if self._own_metadata is None or self._own_metadata[0] != kids:
            self._own_metadata = (kids, await anyio.to_thread.run_sync(self._make_metadata, keys))
        return self._own_metadata[1]

    def _make_metadata(self, keys: Keyring) -> str:
        config = SPConfig()
        config.load(self._sp_config(keys, decrypt_with_all=False))
        document = create_metadata_string(
            None,
            config,
            valid=METADATA_VALID_HOURS,
            sign=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return document.decode() if isinstance(document, bytes) else document

    # -- login --------------------------------------------------------------------------

    async def start(self, login: LoginRequest, keys: Keyring) -> str:
        client, idp = await self.client(keys)

        def prepare() -> str:
            _id, info = client.prepare_for_authenticate(
                entityid=idp,
                relay_state=login.state,
                binding=BINDING_HTTP_REDIRECT,
                sign=True,
                sigalg=SIG_RSA_SHA256,
                message_id=request_id(login),
                nameid_format=self.config.name_id_format,
            )
            return dict(info["headers"])["Location"]

        try:
            return await anyio.to_thread.run_sync(prepare)
        except Exception as exc:  # e.g. metadata without a redirect SSO endpoint
            raise LoginRefused("login-provider-error", check="saml request") from exc

    async def complete(
        self, params: Mapping[str, str], login: LoginRequest, keys: Keyring
    ) -> VerifiedIdentity:
        encoded = params.get("SAMLResponse")
        policy.check_message(policy.decode_message(encoded, "SAMLResponse"))
        client, idp = await self.client(keys)

        def parse() -> Any:
            return client.parse_authn_request_response(
                encoded,
                BINDING_HTTP_POST,
                outstanding={request_id(login): self.acs_url},
                # Without it pysaml2 accepts any SubjectConfirmationData Recipient.
                conv_info={"entity_id": self.entity_id},
            )

        try:
            response = await anyio.to_thread.run_sync(parse)
        except StatusError as exc:  # the provider says no: cancelled, failed, not allowed
            raise LoginRefused("login-provider-error", check=f"saml status {exc!s:.80}") from exc
        except Exception as exc:  # pysaml2's refusals have no common base class
            raise refused(f"saml {type(exc).__name__}") from exc
        if response is None or response.assertion is None:
            raise refused("saml no assertion")
        if response.issuer() != idp:
            raise refused("saml issuer")
        return self._identity(response.assertion)

    def _identity(self, assertion: saml.Assertion) -> VerifiedIdentity:
        signature = assertion.signature
        if signature is None:  # pysaml2 required it; the algorithm is ours to check
            raise refused("saml assertion unsigned")
        policy.check_algorithms(policy.parse(str(signature).encode()))
        values: dict[str, list[str]] = {}
        for statement in assertion.attribute_statement:
            for attribute in statement.attribute:
                texts = [v.text for v in attribute.attribute_value if v.text]
                values[attribute.name] = texts
        name_id = assertion.subject.name_id if assertion.subject else None
        if name_id is None or not name_id.text:
            raise refused("saml no name id")
        statement = assertion.authn_statement[0] if assertion.authn_statement else None
        context = statement.authn_context if statement else None
        class_ref = (
            context.authn_context_class_ref.text
            if context and context.authn_context_class_ref
            else ""
        )
        c = self.config
        born = _first(values, c.birth_date_attribute)
        try:
            birth_date = date.fromisoformat(born) if born else None
        except ValueError:
            birth_date = None
        session_index = (statement.session_index if statement else None) or ""
        return VerifiedIdentity(
            provider=self.name,
            subject=name_id.text.strip(),
            nrn=self._nrn(_first(values, c.nrn_attribute)),
            given_name=(_first(values, c.given_name_attribute) or "")[:200],
            surname=(_first(values, c.surname_attribute) or "")[:200],
            email=_first(values, c.email_attribute),
            language=(_first(values, c.language_attribute) or "")[:5].lower() or None,
            loa=c.loa.get(class_ref or "", "low"),
            birth_date=birth_date,
            sid=session_index or None,
            id_token=logout.session_reference(name_id, session_index),
        )

    def _nrn(self, value: str | None) -> str | None:
        if value is None or self.config.nrn_format == "plain":
            return value
        # eIDAS PersonIdentifier: <issuing country>/<destination country>/<identifier>.
        # Only a Belgian identifier meant for Belgium is a national registry number.
        parts = value.split("/")
        if len(parts) != 3 or parts[0].upper() != "BE" or parts[1].upper() != "BE":
            return None
        return parts[2]

    # -- logout -------------------------------------------------------------------------

    async def end_session_url(
        self, id_token: str | None, post_logout_uri: str, keys: Keyring
    ) -> str | LogoutForm | None:
        """A signed LogoutRequest to the provider (`logout.request`); it answers at our
        logout endpoint, which sends the browser home (`post_logout_uri` is OpenID's; SAML's
        is in our metadata)."""
        if not id_token:
            return None
        client, idp = await self.client(keys)
        return await anyio.to_thread.run_sync(logout.request, client, idp, id_token)

    async def verify_logout_token(self, token: str, keys: Keyring) -> LogoutToken:
        raise LoginRefused("login-token-invalid", check="saml logs out at its logout endpoint")

    async def answer_logout_request(
        self, query: Mapping[str, str], keys: Keyring
    ) -> tuple[LogoutToken, str]:
        """Verify a provider's LogoutRequest (HTTP-Redirect, signature required). Returns
        whom it logs out and the URL of our signed LogoutResponse."""
        client, idp = await self.client(keys)
        try:
            request = await anyio.to_thread.run_sync(
                logout.verified_request, client, idp, query, self.logout_url
            )
        except LoginRefused:
            raise
        except Exception as exc:  # malformed deflate, base64 or XML
            raise refused(f"saml logout {type(exc).__name__}") from exc
        token = logout.token_of(request, self._clock(), self.config.clock_skew_seconds)
        relay_state = query.get("RelayState", "")
        answer = await anyio.to_thread.run_sync(
            logout.response_url, client, idp, request, relay_state
        )
        return token, answer

    def remove_key_files(self) -> None:
        self._files.remove()
