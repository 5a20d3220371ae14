"""Hostile and broken SAML answers: each is refused with a clear page and a history entry,
opens no session, and is never a 500. The IdP is pysaml2's, on loopback; the answers are
made with its keys (or an attacker's) and then bent."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from saml2 import saml, samlp
from saml2.config import IdPConfig
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

from tests.conftest import LiveServer
from tests.support.login import JAN, assert_refused
from tests.support.saml_idp import (
    AES128_CBC,
    EIDAS,
    Received,
    SamlIdentityProvider,
    eidas_user,
    key_pair,
    tampered,
    with_doctype,
    wrapped,
)

OTHER = "90031412508"  # Marie: whom the attacker would like to be
NRN = f"{EIDAS}PersonIdentifier"


async def started(client: httpx.AsyncClient, idp: SamlIdentityProvider) -> Received:
    start = await client.get("/auth/login/eidas")
    assert start.status_code == 302, start.text
    return idp.request_from_url(start.headers["location"])


async def post(client: httpx.AsyncClient, received: Received, saml_response: str) -> httpx.Response:
    return await client.post(
        received.acs, data={"SAMLResponse": saml_response, "RelayState": received.relay_state}
    )


def expire(assertion: saml.Assertion) -> None:
    assertion.conditions.not_on_or_after = "2020-01-01T00:00:00Z"
    assertion.subject.subject_confirmation[
        0
    ].subject_confirmation_data.not_on_or_after = "2020-01-01T00:00:00Z"


def wrong_recipient(assertion: saml.Assertion) -> None:
    data = assertion.subject.subject_confirmation[0].subject_confirmation_data
    data.recipient = "https://elsewhere.example/acs"


def drop_nrn(assertion: saml.Assertion) -> None:
    for statement in assertion.attribute_statement:
        statement.attribute = [a for a in statement.attribute if a.name != NRN]


def not_yet_valid(assertion: saml.Assertion) -> None:
    assertion.conditions.not_before = "2999-01-01T00:00:00Z"


BENT: dict[str, tuple[Callable[[SamlIdentityProvider, Received], str], int, str]] = {
    "unsigned": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), sign_assertion=False),
        400,
        "login-token-invalid",
    ),
    "only the response signed": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), sign_assertion=False, sign_response=True),
        400,
        "login-token-invalid",
    ),
    "changed after signing": (
        lambda idp, r: tampered(idp.respond(r, eidas_user(JAN)), f"BE/BE/{JAN}", f"BE/BE/{OTHER}"),
        400,
        "login-token-invalid",
    ),
    "sha-1 signature": (
        lambda idp, r: idp.respond(
            r, eidas_user(JAN), sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1
        ),
        400,
        "login-token-invalid",
    ),
    "cbc encryption": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), encrypt=True, encryption=AES128_CBC),
        400,
        "login-token-invalid",
    ),
    "wrong audience": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), audience="https://other-sp.example/md"),
        400,
        "login-token-invalid",
    ),
    "wrong recipient": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), mutate=wrong_recipient),
        400,
        "login-token-invalid",
    ),
    "expired": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), mutate=expire),
        400,
        "login-token-invalid",
    ),
    "not yet valid": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), mutate=not_yet_valid),
        400,
        "login-token-invalid",
    ),
    "unsolicited": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), in_response_to=None),
        400,
        "login-token-invalid",
    ),
    "answer to another request": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), in_response_to="_another-request"),
        400,
        "login-token-invalid",
    ),
    "document type declaration": (
        lambda idp, r: with_doctype(idp.respond(r, eidas_user(JAN))),
        400,
        "login-token-invalid",
    ),
    "not base64": (lambda idp, r: "%%% not base64 %%%", 400, "login-token-invalid"),
    "not xml": (lambda idp, r: "bm90IHhtbA==", 400, "login-token-invalid"),
    "the provider refuses": (
        lambda idp, r: idp.respond(
            r,
            eidas_user(JAN),
            status=(samlp.STATUS_AUTHN_FAILED, "the citizen cancelled"),
        ),
        400,
        "login-provider-error",
    ),
    "no national number": (
        lambda idp, r: idp.respond(r, eidas_user(JAN), mutate=drop_nrn),
        403,
        "nrn-missing",
    ),
    "a foreign person identifier": (
        lambda idp, r: idp.respond(r, eidas_user(JAN, country="NL")),
        403,
        "nrn-missing",
    ),
    "level of assurance low": (
        lambda idp, r: idp.respond(r, eidas_user(JAN, loa="low")),
        403,
        "loa-too-low",
    ),
}


@pytest.mark.parametrize("case", list(BENT))
async def test_a_bent_answer_is_refused(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    case: str,
) -> None:
    make, status, reason = BENT[case]
    received = await started(saml_client, saml_idp)
    answer = await post(saml_client, received, make(saml_idp, received))
    await assert_refused(server, saml_client, answer, status, reason)


XSW = [
    "evil-before",
    "evil-after",
    "same-id-before",
    "original-inside-evil",
    "original-in-signature-object",
    "original-in-extensions",
]


@pytest.mark.parametrize("variant", XSW)
@pytest.mark.parametrize("encrypt", [False], ids=["plain"])
async def test_signature_wrapping_is_refused(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    variant: str,
    encrypt: bool,
) -> None:
    received = await started(saml_client, saml_idp)
    genuine = saml_idp.respond(received, eidas_user(JAN), encrypt=encrypt)
    answer = await post(saml_client, received, wrapped(genuine, variant, NRN, f"BE/BE/{OTHER}"))
    await assert_refused(server, saml_client, answer, 400, "login-token-invalid")


async def test_an_assertion_signed_by_another_key_is_refused(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    received = await started(saml_client, saml_idp)
    genuine = saml_idp.respond(received, eidas_user(JAN), sign_assertion=False)
    key_file, cert_file = key_pair(tmp_path, "attacker")
    attacker = IdPConfig()
    attacker.load({"entityid": saml_idp.entity_id, "key_file": key_file, "cert_file": cert_file})
    xml = base64.b64decode(genuine).decode()
    assertion_id = samlp.response_from_string(xml).assertion[0].id
    signed = saml_idp.sign_assertion(xml, assertion_id, sec=security_context(attacker))
    answer = await post(saml_client, received, base64.b64encode(signed.encode()).decode())
    await assert_refused(server, saml_client, answer, 400, "login-token-invalid")


async def test_a_replayed_answer_is_refused(
    server: LiveServer, saml_idp: SamlIdentityProvider, saml_client: httpx.AsyncClient
) -> None:
    received = await started(saml_client, saml_idp)
    genuine = saml_idp.respond(received, eidas_user(JAN), encrypt=True)
    assert (await post(saml_client, received, genuine)).status_code == 302
    await saml_client.post(
        "/auth/logout", headers={"x-csrftoken": saml_client.cookies["csrftoken"]}
    )

    # The same answer again: its login is used up.
    again = await post(saml_client, received, genuine)
    await assert_refused(server, saml_client, again, 400, "login-state-invalid")
    # ... and with a fresh login's state, it answers another request.
    fresh = await started(saml_client, saml_idp)
    replayed = await post(saml_client, fresh, genuine)
    await assert_refused(server, saml_client, replayed, 400, "login-token-invalid")
