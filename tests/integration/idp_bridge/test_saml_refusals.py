"""Hostile and broken SAML answers: each is refused with a clear page and a history entry,
opens no session, and is never a 500. The IdP is pysaml2's, on loopback; the answers are
made with its keys (or an attacker's) and then bent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from saml2 import saml, samlp
from saml2.config import IdPConfig
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

from tests.conftest import LiveServer
from tests.support.login import JAN, assert_refused, csrf
from tests.support.saml_idp import (
    AES128_CBC,
    EIDAS,
    Received,
    SamlIdentityProvider,
    User,
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


Make = Callable[[SamlIdentityProvider, Received], str]


def bent(**changes: Any) -> Make:
    """Jan's answer from the IdP, made with `changes` (`SamlIdentityProvider.respond`)."""
    return lambda idp, received: idp.respond(received, eidas_user(JAN), **changes)


def answer_of(user: User) -> Make:
    return lambda idp, received: idp.respond(received, user)


INVALID = (400, "login-token-invalid")
BENT: dict[str, tuple[Make, tuple[int, str]]] = {
    "unsigned": (bent(sign_assertion=False), INVALID),
    "only the response signed": (bent(sign_assertion=False, sign_response=True), INVALID),
    "changed after signing": (
        lambda idp, r: tampered(bent()(idp, r), f"BE/BE/{JAN}", f"BE/BE/{OTHER}"),
        INVALID,
    ),
    "sha-1 signature": (bent(sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1), INVALID),
    "cbc encryption": (bent(encrypt=True, encryption=AES128_CBC), INVALID),
    "wrong audience": (bent(audience="https://other-sp.example/md"), INVALID),
    "wrong recipient": (bent(mutate=wrong_recipient), INVALID),
    "expired": (bent(mutate=expire), INVALID),
    "not yet valid": (bent(mutate=not_yet_valid), INVALID),
    "unsolicited": (bent(in_response_to=None), INVALID),
    "answer to another request": (bent(in_response_to="_another-request"), INVALID),
    "document type declaration": (lambda idp, r: with_doctype(bent()(idp, r)), INVALID),
    "not base64": (lambda idp, r: "%%% not base64 %%%", INVALID),
    "not xml": (lambda idp, r: "bm90IHhtbA==", INVALID),
    "the provider refuses": (
        bent(status=(samlp.STATUS_AUTHN_FAILED, "the citizen cancelled")),
        (400, "login-provider-error"),
    ),
    "no national number": (bent(mutate=drop_nrn), (403, "nrn-missing")),
    "a foreign person identifier": (answer_of(eidas_user(JAN, country="NL")), (403, "nrn-missing")),
    "level of assurance low": (answer_of(eidas_user(JAN, loa="low")), (403, "loa-too-low")),
}


@pytest.mark.parametrize("case", list(BENT))
async def test_a_bent_answer_is_refused(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    case: str,
) -> None:
    make, (status, reason) = BENT[case]
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
async def test_signature_wrapping_is_refused(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    variant: str,
) -> None:
    received = await started(saml_client, saml_idp)
    genuine = saml_idp.respond(received, eidas_user(JAN))
    answer = await post(saml_client, received, wrapped(genuine, variant, NRN, f"BE/BE/{OTHER}"))
    await assert_refused(server, saml_client, answer, 400, "login-token-invalid")


async def test_an_assertion_signed_by_another_key_is_refused(
    server: LiveServer,
    saml_idp: SamlIdentityProvider,
    saml_client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    received = await started(saml_client, saml_idp)
    key_file, cert_file = key_pair(tmp_path, "attacker")
    attacker = IdPConfig()
    attacker.load({"entityid": saml_idp.entity_id, "key_file": key_file, "cert_file": cert_file})
    signed = saml_idp.respond(received, eidas_user(JAN), sec=security_context(attacker))
    answer = await post(saml_client, received, signed)
    await assert_refused(server, saml_client, answer, 400, "login-token-invalid")


async def test_a_replayed_answer_is_refused(
    server: LiveServer, saml_idp: SamlIdentityProvider, saml_client: httpx.AsyncClient
) -> None:
    received = await started(saml_client, saml_idp)
    genuine = saml_idp.respond(received, eidas_user(JAN), encrypt=True)
    assert (await post(saml_client, received, genuine)).status_code == 302
    await saml_client.post("/auth/logout", headers=csrf(saml_client))

    # The same answer again: its login is used up.
    again = await post(saml_client, received, genuine)
    await assert_refused(server, saml_client, again, 400, "login-state-invalid")
    # ... and with a fresh login's state, it answers another request.
    fresh = await started(saml_client, saml_idp)
    replayed = await post(saml_client, fresh, genuine)
    await assert_refused(server, saml_client, replayed, 400, "login-token-invalid")
