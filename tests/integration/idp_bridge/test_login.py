"""Logging in through the development identity provider, over real HTTP, end to end."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import func, select

from idp_bridge.models import Person, ProviderLink
from kluis.db import metadata
from kluis.settings import RateLimitSettings
from tests.support import files
from tests.support.instances import instances
from tests.support.login import (
    JAN,
    MARIE,
    MINOR,
    assert_refused,
    bis_number,
    callback_url,
    choose,
    csrf,
    login,
    open_sessions,
)
from tests.support.vault import upload


async def test_login_with_itsme_lands_on_the_citizens_home(server, browser_client):
    response = await login(browser_client, "itsme", login_hint=JAN)

    assert response.status_code == 200
    assert response.url.path == "/home"
    assert "Jan Peeters" in response.text
    assert "85.07.30-xxx.xx" in response.text
    assert JAN not in response.text
    me = (await browser_client.get("/api/v1/me")).json()
    assert me["given_name"] == "Jan"
    assert me["nrn_masked"] == "85.07.30-xxx.xx"
    assert me["birth_date"] == "1985-07-30"
    assert me["loa"] == "high"
    assert me["roles"] == ["citizen"]


async def test_login_with_the_federal_service_profile(server, browser_client):
    response = await login(browser_client, "fas", login_hint=MARIE)

    assert response.url.path == "/home"
    me = (await browser_client.get("/api/v1/me")).json()
    assert (me["given_name"], me["surname"], me["language"]) == ("Marie", "Dubois", "fr")


async def test_history_lists_the_login(server, browser_client):
    await login(browser_client, login_hint=JAN)

    history = (await browser_client.get("/api/v1/history")).json()

    assert history["chain_verified"] is True
    assert history["events"][0]["action"] == "idp:login:succeeded"
    assert history["events"][0]["ip"] == "127.0.0.1"
    page = await browser_client.get("/history")
    assert 'data-action="idp:login:succeeded"' in page.text
    assert 'id="chain-status"' in page.text


@pytest.mark.parametrize(
    ("proxies", "recorded"),
    [(["127.0.0.1"], "198.51.100.7"), ([], "127.0.0.1")],
    ids=["behind-a-trusted-proxy", "direct"],
)
async def test_the_history_records_the_client_the_trusted_proxy_names(
    server, settings, proxies, recorded
):
    """Behind nginx every connection comes from the proxy: the history records the client
    the proxy forwards for, and believes X-Forwarded-For only from a trusted proxy."""
    limits = RateLimitSettings(trusted_proxies=proxies)
    forwarded = {"x-forwarded-for": "198.51.100.7"}
    with instances(settings, 1, rate_limits=limits) as (only,):
        async with httpx.AsyncClient(base_url=only.url, headers=forwarded, timeout=20) as client:
            await login(client, login_hint=JAN)
            history = (await client.get("/api/v1/history")).json()
    assert history["events"][0]["action"] == "idp:login:succeeded"
    assert history["events"][0]["ip"] == recorded


async def test_person_is_keyed_on_the_nrn_not_on_the_providers_subject(server, browser_client):
    # The two clients get different pairwise subjects for the same citizen.
    await login(browser_client, "itsme", login_hint=JAN)
    first = (await browser_client.get("/api/v1/me")).json()["id"]
    async with httpx.AsyncClient(base_url=server.url) as other:
        await login(other, "dev", login_hint=JAN)
        second = (await other.get("/api/v1/me")).json()["id"]

    assert first == second
    async with server.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Person)) == 1
        links = (await db.scalars(select(ProviderLink))).all()
    assert {link.provider for link in links} == {"itsme", "dev"}
    assert len({link.subject for link in links}) == 2


async def test_nrn_is_stored_only_sealed_and_indexed(server, browser_client):
    await login(browser_client, login_hint=JAN)

    async with server.sessions() as db:
        person = await db.scalar(select(Person))
    assert JAN.encode() not in person.nrn_sealed
    assert JAN not in person.nrn_index


async def test_the_nrn_is_in_no_table_and_no_log(server, browser_client, caplog):
    # Both flavours (itsme; FAS puts the NRN in the ID token itself), a logout at the
    # provider, a document, the history: then every column of every table, and every log
    # line, must be free of the number, in any of its spellings.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, with values
    for provider in ("fas", "itsme"):
        assert (await choose(browser_client, JAN, provider=provider)).url.path == "/home"
        assert (await browser_client.get("/api/v1/me")).status_code == 200
        await browser_client.post("/auth/logout", headers=csrf(browser_client))
    await choose(browser_client, JAN)
    assert (await upload(browser_client, "akte.pdf", files.pdf())).status_code == 201
    assert (await browser_client.get("/api/v1/history")).status_code == 200

    spellings = (JAN, "85.07.30-033.28", "850730-033-28")
    async with server.sessions() as db:
        for table in metadata.sorted_tables:
            for row in (await db.execute(select(table))).all():
                for value in row:
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    assert not [s for s in spellings if s in text], table.name
    assert "INSERT INTO people" in caplog.text  # the server's own SQL log is captured too
    assert not [s for s in spellings if s in caplog.text]


async def test_a_new_session_id_at_every_login(server, browser_client):
    await login(browser_client, login_hint=JAN)
    first = browser_client.cookies["kluis_session"]
    await login(browser_client, login_hint=JAN)
    second = browser_client.cookies["kluis_session"]

    assert first != second
    assert await open_sessions(server) == 1


async def test_next_path_is_honoured(server, browser_client):
    response = await login(browser_client, login_hint=JAN, next="/history")
    assert response.url.path == "/history"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
async def test_open_redirect_next_is_refused(server, browser_client, target):
    response = await login(browser_client, login_hint=JAN, next=target)
    await assert_refused(server, browser_client, response, 400, "redirect-not-allowed")


async def test_nrn_with_a_bad_checksum_is_refused(server, browser_client):
    response = await login(browser_client, login_hint="85073003327")
    await assert_refused(server, browser_client, response, 403, "nrn-invalid")


async def test_bis_number_gets_no_personal_vault(server, browser_client):
    response = await login(browser_client, login_hint=bis_number())
    await assert_refused(server, browser_client, response, 403, "nrn-not-national-register")


async def test_a_minor_gets_no_vault(server, browser_client):
    response = await login(browser_client, login_hint=MINOR)
    await assert_refused(server, browser_client, response, 403, "under-age")


async def test_level_of_assurance_too_low_is_refused(server, browser_client):
    response = await choose(browser_client, JAN, level="low")
    await assert_refused(server, browser_client, response, 403, "loa-too-low")


async def test_refusal_of_a_known_person_lands_in_their_history(server, browser_client):
    await login(browser_client, login_hint=JAN)
    await browser_client.post("/auth/logout", headers=csrf(browser_client))

    refused = await choose(browser_client, JAN, level="low")
    assert refused.status_code == 403
    await login(browser_client, login_hint=JAN)

    events = (await browser_client.get("/api/v1/history")).json()["events"]
    actions = [(e["action"], e["detail"].get("reason")) for e in events]
    assert ("idp:login:refused", "loa-too-low") in actions


async def test_substantial_level_logs_in_without_notary_roles(server, browser_client):
    response = await choose(browser_client, JAN, level="substantial")
    assert response.url.path == "/home"
    assert (await browser_client.get("/api/v1/me")).json()["loa"] == "substantial"


async def test_provider_error_is_refused(server, browser_client):
    page = await browser_client.get("/auth/login/itsme", follow_redirects=True)
    ticket = page.text.split('name="ticket" value="')[1].split('"')[0]
    response = await browser_client.post(
        "/dev-idp/authorize",
        data={"ticket": ticket, "cancel": "1", "_csrf_token": browser_client.cookies["csrftoken"]},
        follow_redirects=True,
    )
    await assert_refused(server, browser_client, response, 400, "login-provider-error")


async def test_missing_state_is_refused(server, browser_client):
    await browser_client.get("/")
    response = await browser_client.get("/auth/callback/itsme", params={"code": "abc"})
    await assert_refused(server, browser_client, response, 400, "login-state-invalid")


async def test_replayed_state_is_refused(server, browser_client):
    url = await callback_url(browser_client, login_hint=JAN)
    first = await browser_client.get(url, follow_redirects=True)
    assert first.url.path == "/home"
    await browser_client.post("/auth/logout", headers=csrf(browser_client))

    replay = await browser_client.get(url)
    await assert_refused(server, browser_client, replay, 400, "login-state-invalid")


async def test_state_from_another_browser_is_refused(server, browser_client):
    url = await callback_url(browser_client, login_hint=JAN)
    async with httpx.AsyncClient(base_url=server.url) as attacker:
        response = await attacker.get(url)
        await assert_refused(server, attacker, response, 400, "login-state-invalid")


async def test_unknown_provider_is_not_found(server, browser_client):
    response = await browser_client.get("/auth/login/nope")
    assert response.status_code == 404
    assert 'data-problem-type="provider-unknown"' in response.text


async def test_refusal_page_speaks_the_browsers_language(server, browser_client):
    dutch = await login(browser_client, login_hint="85073003327")
    browser_client.cookies.set("kluis_lang", "fr")
    french = await login(browser_client, login_hint="85073003327")

    assert dutch.status_code == french.status_code == 403
    assert "rijksregisternummer" in dutch.text
    assert 'lang="fr"' in french.text
    assert "registre national" in french.text


async def test_pages_speak_the_persons_chosen_language(server, browser_client):
    await login(browser_client, login_hint=JAN)
    await browser_client.patch("/api/v1/me", json={"language": "fr"}, headers=csrf(browser_client))

    page = await browser_client.get("/history")

    assert "Historique" in page.text
    assert "<td>Connexion</td>" in page.text
