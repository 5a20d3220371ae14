"""E-mail address confirmation, end to end: the live server queues the mail, a real worker
hands it to a real SMTP server on loopback, and the test follows the link in it."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import unescape

import httpx

from kluis.web import i18n
from tests.support.login import JAN, MARIE, csrf, login
from tests.support.tasks import Deferrals

SUBJECT = "Confirm your e-mail address for Kluis"


def link_in(message: EmailMessage) -> str:
    body = message.get_content()  # type: ignore[attr-defined]
    found = re.search(r"http://\S+/auth/email/confirm\?token=\S+", body)
    assert found, body
    return found.group(0)


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


def claims_of(link: str) -> dict[str, object]:
    payload = token_of(link).split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def set_email(client: httpx.AsyncClient, address: str) -> httpx.Response:
    return await client.post("/api/v1/me/email", json={"email": address}, headers=csrf(client))


async def me(client: httpx.AsyncClient) -> dict[str, object]:
    return (await client.get("/api/v1/me")).json()


def problem_type(response: httpx.Response) -> str | None:
    found = re.search(r'data-problem-type="([^"]+)"', response.text)
    return found.group(1) if found else None


async def test_link_in_the_mail_confirms_the_address(inbox, browser_client):
    await login(browser_client, login_hint=JAN)

    response = await set_email(browser_client, "jan.nieuw@example.test")

    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_verified"]) == (
        "jan.nieuw@example.test",
        False,
    )
    mail = inbox.wait_for(1)[0]
    assert mail["To"] == "jan.nieuw@example.test"
    assert mail["Subject"] == i18n.translations("nl").gettext(SUBJECT)  # Jan reads Dutch
    assert "Jan Peeters" in mail.get_content()  # type: ignore[attr-defined]

    page = await browser_client.get(link_in(mail), follow_redirects=True)

    assert page.status_code == 200
    assert page.url.path == "/home"
    assert 'id="email-notice"' in page.text
    assert 'data-verified="true"' in page.text
    assert (await me(browser_client))["email_verified"] is True
    history = (await browser_client.get("/api/v1/history", params={"action": "idp:email"})).json()
    assert [(e["action"], e["target"]) for e in history["events"]] == [
        ("idp:email:confirmed", "jan.nieuw@example.test"),
        ("idp:email:changed", "jan.nieuw@example.test"),
    ]
    assert history["chain_verified"]
    history_page = await browser_client.get("/history")
    assert 'data-action="idp:email:confirmed"' in history_page.text


async def test_a_link_opened_without_a_session_asks_for_the_login_then_confirms(
    inbox, browser_client, server
):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.elders@example.test")
    link = link_in(inbox.wait_for(1)[0])

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as other_browser:
        page = await other_browser.get(link)
        assert page.status_code == 200
        assert 'id="email-login"' in page.text
        start = re.search(r'href="(/auth/login/itsme\?next=[^"]+)"', page.text)
        assert start, page.text
        # Picking Jan on the provider's page, as the login hint does for the test.
        done = await other_browser.get(
            f"{unescape(start.group(1))}&login_hint={JAN}", follow_redirects=True
        )
        assert done.url.path == "/home"
        assert done.url.params["email"] == "confirmed"
    assert (await me(browser_client))["email_verified"] is True


async def test_invalid_address_is_refused_and_changes_nothing(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    before = await me(browser_client)

    for address in ["not-an-address", "jan@", "a b@example.test", "x" * 400 + "@example.test"]:
        response = await set_email(browser_client, address)
        assert response.status_code == 422, address
        assert response.json()["type"] == "email-invalid"

    assert await me(browser_client) == before


async def test_address_changes_need_the_csrf_token(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.post("/api/v1/me/email", json={"email": "a@example.test"})
    assert response.status_code == 403


async def test_expired_link_is_refused(inbox, browser_client, platform):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.laat@example.test")
    claims = claims_of(link_in(inbox.wait_for(1)[0]))
    hours = platform.settings.mail.confirmation_link_hours
    expired = platform.identity.emails.link(
        uuid.UUID(str(claims["sub"])),
        "jan.laat@example.test",
        int(str(claims["chg"])),
        now=datetime.now(UTC) - timedelta(hours=hours, minutes=1),
    )

    response = await browser_client.get(expired)

    assert response.status_code == 410
    assert problem_type(response) == "email-link-expired"
    assert (await me(browser_client))["email_verified"] is False


async def test_tampered_link_is_refused(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.echt@example.test")
    link = link_in(inbox.wait_for(1)[0])
    header, payload, signature = token_of(link).split(".")
    claims = claims_of(link)
    forged_payload = (
        base64.urlsafe_b64encode(json.dumps({**claims, "chg": 99}).encode()).rstrip(b"=").decode()
    )
    forgeries = [
        f"{header}.{payload}.{signature[:-4]}AAAA",
        f"{header}.{forged_payload}.{signature}",
        f"{header}.{payload}",
        "not-a-token",
    ]

    for token in forgeries:
        response = await browser_client.get("/auth/email/confirm", params={"token": token})
        assert response.status_code == 400, token
        assert problem_type(response) == "email-link-invalid"

    assert (await me(browser_client))["email_verified"] is False


async def test_link_for_an_address_changed_since_is_refused(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.eerste@example.test")
    first = link_in(inbox.wait_for(1)[0])
    await set_email(browser_client, "jan.tweede@example.test")
    second = link_in(inbox.wait_for(2)[1])

    refused = await browser_client.get(first)

    assert refused.status_code == 409
    assert problem_type(refused) == "email-link-superseded"
    profile = await me(browser_client)
    assert (profile["email"], profile["email_verified"]) == ("jan.tweede@example.test", False)
    confirmed = await browser_client.get(second, follow_redirects=True)
    assert confirmed.url.params["email"] == "confirmed"
    assert (await me(browser_client))["email_verified"] is True


async def test_link_for_an_address_given_again_later_is_refused(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.a@example.test")
    old = link_in(inbox.wait_for(1)[0])
    await set_email(browser_client, "jan.b@example.test")
    await set_email(browser_client, "jan.a@example.test")
    newest = link_in(inbox.wait_for(3)[2])

    refused = await browser_client.get(old)

    assert problem_type(refused) == "email-link-superseded"
    assert (await me(browser_client))["email_verified"] is False
    assert (await browser_client.get(newest)).status_code == 302
    assert (await me(browser_client))["email_verified"] is True


async def test_used_link_is_refused_the_second_time(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.eenmaal@example.test")
    link = link_in(inbox.wait_for(1)[0])
    assert (await browser_client.get(link)).status_code == 302

    again = await browser_client.get(link)

    assert again.status_code == 409
    assert problem_type(again) == "email-link-used"
    history = (await browser_client.get("/api/v1/history", params={"action": "idp:email"})).json()
    assert [e["action"] for e in history["events"]].count("idp:email:confirmed") == 1


async def test_someone_elses_link_is_refused(inbox, browser_client, server):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.prive@example.test")
    link = link_in(inbox.wait_for(1)[0])

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as marie:
        await login(marie, login_hint=MARIE)
        response = await marie.get(link)
        assert response.status_code == 403
        assert problem_type(response) == "email-link-other-person"
        assert (await me(marie))["email"] != "jan.prive@example.test"

    assert (await me(browser_client))["email_verified"] is False


async def test_confirmed_address_given_again_sends_no_mail(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    await set_email(browser_client, "jan.vast@example.test")
    await browser_client.get(link_in(inbox.wait_for(1)[0]))

    same = await set_email(browser_client, "jan.vast@example.test")
    assert same.json()["email_verified"] is True
    await set_email(browser_client, "jan.later@example.test")

    # The worker sends in order: had the first call queued a mail, it would come first.
    assert inbox.wait_for(2)[1]["To"] == "jan.later@example.test"


async def test_mail_speaks_the_persons_language(inbox, browser_client):
    french = i18n.translations("fr").gettext(SUBJECT)
    assert french != SUBJECT

    await login(browser_client, login_hint=MARIE)  # Marie's language is French
    await set_email(browser_client, "marie.nouvelle@example.test")

    assert inbox.wait_for(1)[0]["Subject"] == french


async def test_smtp_server_down_for_a_moment_loses_no_mail(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    inbox.stop()
    try:
        with Deferrals().watching() as deferrals:
            response = await set_email(browser_client, "jan.geduld@example.test")
            assert response.status_code == 200
            assert deferrals.seen.wait(10), "the worker never tried to send"
    finally:
        inbox.start()

    mail = inbox.wait_for(1)[0]
    assert mail["To"] == "jan.geduld@example.test"
    assert (await browser_client.get(link_in(mail))).status_code == 302
    assert (await me(browser_client))["email_verified"] is True


# -- the home page ------------------------------------------------------------------------


async def test_home_page_form_sets_the_address_and_says_what_happened(inbox, browser_client):
    await login(browser_client, login_hint=JAN)
    home = await browser_client.get("/home")
    assert 'action="/home/email"' in home.text

    page = await browser_client.post(
        "/home/email",
        data={
            "email": "jan.formulier@example.test",
            "_csrf_token": csrf(browser_client)["x-csrftoken"],
        },
        follow_redirects=True,
    )

    assert page.status_code == 200
    assert page.url.params["email"] == "sent"
    assert 'id="email-notice"' in page.text
    assert "jan.formulier@example.test" in page.text
    assert 'data-verified="false"' in page.text
    assert inbox.wait_for(1)[0]["To"] == "jan.formulier@example.test"


async def test_home_page_form_shows_a_bad_address_with_the_reason(inbox, browser_client):
    await login(browser_client, login_hint=JAN)

    page = await browser_client.post(
        "/home/email",
        data={"email": "jan@@example", "_csrf_token": csrf(browser_client)["x-csrftoken"]},
    )

    assert page.status_code == 422
    assert 'id="email-error"' in page.text
    assert 'value="jan@@example"' in page.text
    assert (await me(browser_client))["email"] != "jan@@example"
