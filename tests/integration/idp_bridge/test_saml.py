"""Logging in and out through SAML identity providers: an eIDAS node and the federal
service's SAML flavour, both played by pysaml2's own IdP on loopback over real HTTP."""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.mdstore import MetadataStore
from saml2.response import IncorrectlySigned
from saml2.sigver import get_xmlsec_binary
from sqlalchemy import select

from idp_bridge.models import Person, ProviderLink, WebSession
from idp_bridge.saml import policy
from idp_bridge.saml.metadata import check_signature
from idp_bridge.saml.provider import _XmlSec1
from kluis.audit import HistoryEvent
from tests.conftest import LiveServer
from tests.support.login import JAN, csrf, open_sessions
from tests.support.saml_idp import EIDAS, SamlIdentityProvider, eidas_user, fas_user, form_fields


async def saml_login(client: httpx.AsyncClient, provider: str) -> httpx.Response:
    """Start a login, let the IdP answer, and post its form back as a browser would."""
    start = await client.get(f"/auth/login/{provider}")
    assert start.status_code == 302, start.text
    page = await client.get(start.headers["location"])
    assert page.status_code == 200, page.text
    action, fields = form_fields(page.text)
    return await client.post(action, data=fields)


@pytest.mark.parametrize("encrypt", [True, False], ids=["encrypted", "plain"])
async def test_an_eidas_login_opens_a_session_for_the_national_number(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    encrypt: bool,
) -> None:
    saml_idp.user, saml_idp.encrypt = eidas_user(JAN), encrypt
    answer = await saml_login(saml_client, "eidas")
    assert answer.status_code == 302, answer.text
    assert answer.headers["location"] == "/"
    me = (await saml_client.get("/api/v1/me")).json()
    assert (me["given_name"], me["surname"]) == ("Jan", "Peeters")
    async with server.sessions() as db:
        session = await db.scalar(select(WebSession))
        link = await db.scalar(select(ProviderLink))
        event = await db.scalar(
            select(HistoryEvent).where(HistoryEvent.action == "idp:login:succeeded")
        )
    assert session is not None and link is not None and event is not None
    assert (session.provider, session.loa) == ("eidas", "high")
    # The NameID carries the NRN (BE/BE/<number>): it is kept only as its keyed hash.
    assert session.provider_subject.startswith("keyed:") and JAN not in session.provider_subject
    assert session.provider_sid == saml_idp.user.session_index
    assert (link.provider, link.subject) == ("eidas", session.provider_subject)
    assert event.detail == {"provider": "eidas", "loa": "high"}


async def test_the_federal_service_saml_login_reads_its_attributes(
    server: LiveServer, saml_idp: SamlIdentityProvider, saml_client: httpx.AsyncClient
) -> None:
    saml_idp.user, saml_idp.encrypt = fas_user(JAN, level="Level450"), True
    answer = await saml_login(saml_client, "fas-saml")
    assert answer.status_code == 302, answer.text
    async with server.sessions() as db:
        person = await db.scalar(select(Person))
        session = await db.scalar(select(WebSession))
    assert person is not None and session is not None
    assert session.provider_subject == saml_idp.user.name_id  # opaque: kept as it is
    assert (person.email, person.language, session.loa) == (
        "jan.peeters@example.test",
        "nl",
        "high",
    )


async def test_the_authn_request_is_signed_and_carries_the_profile(
    saml_idp: SamlIdentityProvider, saml_client: httpx.AsyncClient, saml_live: LiveServer
) -> None:
    start = await saml_client.get("/auth/login/eidas")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    received = saml_idp.request_from_url(start.headers["location"])  # verifies the signature
    assert received.acs == f"{saml_live.url}/auth/callback/eidas"
    assert received.sp == f"{saml_live.url}/auth/saml/eidas/metadata"
    xml = received.xml
    assert 'ForceAuthn="true"' in xml
    request = policy.parse(xml.encode())
    [sp_type] = [e for e in request.iter() if e.tag.endswith("}SPType")]
    assert sp_type.text == "public"
    requested = {
        e.get("Name"): e.get("isRequired")
        for e in request.iter()
        if e.tag.endswith("}RequestedAttribute")
    }
    assert requested[f"{EIDAS}PersonIdentifier"] == "true"
    assert 'Comparison="minimum"' in xml
    assert "http://eidas.europa.eu/LoA/substantial" in xml

    # A tampered signature is refused by the IdP: the platform really signs.
    forged = dict(query, Signature=[base64.b64encode(b"x" * 256).decode()])
    with pytest.raises(IncorrectlySigned):
        saml_idp.read_request({k: v[0] for k, v in forged.items()})


async def test_the_metadata_is_signed_and_names_our_endpoints_and_keys(
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    saml_live: LiveServer,
    tmp_path: Path,
) -> None:
    answer = await saml_client.get("/auth/saml/eidas/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
    assert answer.text == (await saml_client.get("/auth/saml/eidas/metadata")).text
    entity = f"{saml_live.url}/auth/saml/eidas/metadata"
    config = SPConfig()
    config.load({"entityid": "urn:reader"})
    store = MetadataStore(config.attribute_converters, config)
    store.load("inline", answer.text)
    assert store.assertion_consumer_service(entity, BINDING_HTTP_POST)[0]["location"] == (
        f"{saml_live.url}/auth/callback/eidas"
    )
    assert (
        store.single_logout_service(entity, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]
        == f"{saml_live.url}/auth/saml/eidas/logout"
    )
    assert len(store.certs(entity, "spsso", "signing")) == 1
    assert len(store.certs(entity, "spsso", "encryption")) == 1
    assert 'AuthnRequestsSigned="true"' in answer.text
    assert 'WantAssertionsSigned="true"' in answer.text
    # Signed, whole, by the key it names for signing.
    [(_name, signing_cert)] = store.certs(entity, "spsso", "signing")
    cert_file = tmp_path / "sp.pem"
    pem = ["-----BEGIN CERTIFICATE-----", signing_cert, "-----END CERTIFICATE-----"]
    cert_file.write_text("\n".join(pem))
    check_signature(answer.text.encode(), str(cert_file), _XmlSec1(get_xmlsec_binary()))
    assert (await saml_client.get("/auth/saml/itsme/metadata")).status_code == 404


async def test_logging_out_ends_the_session_here_and_at_the_provider(
    server: LiveServer, saml_idp: SamlIdentityProvider, saml_client: httpx.AsyncClient
) -> None:
    saml_idp.user = eidas_user(JAN)
    await saml_login(saml_client, "eidas")
    saml_idp.logout_requests.clear()
    out = await saml_client.post("/auth/logout", headers=csrf(saml_client))
    # The NameID is BE/BE/<number>: the LogoutRequest is posted, never put in a URL.
    assert out.status_code == 200, out.text
    assert "location" not in out.headers
    assert await open_sessions(server) == 0
    form = re.search(r'<form method="post" action="([^"]+)" id="provider-logout"', out.text)
    assert form is not None and form.group(1) == f"{saml_idp.url}/slo"
    assert '<script nonce="' in out.text and 'src="/static/autosubmit.js"' in out.text
    message = re.search(r'name="SAMLRequest" value="([^"]+)"', out.text)
    assert message is not None
    back = await saml_client.post(form.group(1), data={"SAMLRequest": message.group(1)})
    assert back.status_code == 303, back.text  # the IdP checked our signature
    home = await saml_client.get(back.headers["location"])
    assert (home.status_code, home.headers["location"]) == (303, "/")
    [request] = saml_idp.logout_requests
    assert request.name_id.text == saml_idp.user.name_id
    assert [i.text for i in request.session_index] == [saml_idp.user.session_index]


async def test_the_provider_ends_a_session_with_a_signed_logout_request_once(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    saml_live: LiveServer,
) -> None:
    saml_idp.user = eidas_user(JAN)
    await saml_login(saml_client, "eidas")
    logout_url = f"{saml_live.url}/auth/saml/eidas/logout"

    unsigned = saml_idp.logout_request(logout_url, saml_idp.user, signed=False)
    async with httpx.AsyncClient(timeout=20) as idp_browser:
        refused = await idp_browser.get(unsigned)
        assert refused.status_code == 400
        assert 'data-problem-type="logout-token-invalid"' in refused.text
        assert await open_sessions(server) == 1

        signed = saml_idp.logout_request(logout_url, saml_idp.user)
        answer = await idp_browser.get(signed)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].startswith(f"{saml_idp.url}/slo?SAMLResponse=")
        response = zlib.decompress(
            base64.b64decode(
                parse_qs(urlsplit(answer.headers["location"]).query)["SAMLResponse"][0]
            ),
            -15,
        )
        assert b"urn:oasis:names:tc:SAML:2.0:status:Success" in response
        assert await open_sessions(server) == 0
        assert (await saml_client.get("/api/v1/me")).status_code == 401

        replayed = await idp_browser.get(signed)
        assert replayed.status_code == 400
        assert 'data-problem-type="logout-token-replayed"' in replayed.text
    async with server.sessions() as db:
        ended = await db.scalar(select(WebSession))
    assert ended is not None and ended.end_reason == "provider-logout"
