"""The citizen's profile API and the OpenAPI document."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.login import JAN, csrf, login


async def test_language_can_be_changed_through_the_api(server, browser_client):
    await login(browser_client, login_hint=JAN)

    response = await browser_client.patch(
        "/api/v1/me", json={"language": "fr"}, headers=csrf(browser_client)
    )

    assert response.status_code == 200
    assert response.json()["language"] == "fr"
    assert (await browser_client.get("/api/v1/me")).json()["language"] == "fr"


async def test_unknown_language_is_refused(server, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.patch(
        "/api/v1/me", json={"language": "xx"}, headers=csrf(browser_client)
    )
    assert response.status_code == 422
    assert response.json()["type"] == "language-not-available"


async def test_unknown_fields_are_refused(server, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.patch(
        "/api/v1/me", json={"nrn": "85073003328"}, headers=csrf(browser_client)
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("wrong", [[None, None], "on", 1])
async def test_notification_switches_of_the_wrong_shape_are_refused(server, browser_client, wrong):
    """A field named like one of the app's dependencies once made Litestar take its
    refusal for a fault of ours: a 500 instead of a 400."""
    await login(browser_client, login_hint=JAN)
    response = await browser_client.patch(
        "/api/v1/me", json={"notifications": wrong}, headers=csrf(browser_client)
    )
    assert response.status_code == 400
    assert response.json()["type"] == "bad-request"


async def test_profile_changes_need_the_csrf_token(server, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.patch("/api/v1/me", json={"language": "fr"})
    assert response.status_code == 403
    assert response.json()["type"] == "csrf-token-invalid"


async def test_api_without_a_session_answers_problem_json(server, browser_client):
    response = await browser_client.get("/api/v1/me")
    assert response.status_code == 401
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert set(problem) == {"type", "title", "status", "detail"}
    assert (problem["type"], problem["status"]) == ("login-required", 401)
    assert problem["title"] and problem["detail"]


async def test_openapi_document_lists_the_api(server, browser_client):
    response = await browser_client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/me", "/api/v1/history", "/.well-known/jwks.json"} <= set(paths)


async def test_jwks_is_public_and_has_sig_and_enc(server, browser_client):
    keys = (await browser_client.get("/.well-known/jwks.json")).json()["keys"]
    assert sorted(k["use"] for k in keys) == ["enc", "sig"]
    assert all("d" not in k for k in keys)


async def test_unknown_page_is_a_localized_404(server, browser_client):
    browser_client.cookies.set("kluis_lang", "fr")
    response = await browser_client.get("/nowhere", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert 'data-problem-type="not-found"' in response.text


def script_policy(response) -> str:
    header = response.headers["content-security-policy"]
    policy = dict(part.strip().split(" ", 1) for part in header.split(";"))
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == policy["base-uri"] == "'none'"
    assert "unsafe" not in header
    return policy["script-src"]


async def test_security_headers(server, browser_client):
    response = await browser_client.get("/")
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "camera=()" in headers["permissions-policy"]
    script_policy(response)


async def test_scripts_run_only_with_the_answers_own_nonce(server, browser_client):
    """A strict policy: no script runs without the nonce of the very answer it came in, so
    an injected <script> does not run; and every page's own scripts carry it."""
    first, second = await browser_client.get("/"), await browser_client.get("/")
    nonces = []
    for page in (first, second):
        allowed = script_policy(page)
        found = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{22})' 'strict-dynamic'", allowed)
        assert found, allowed
        nonces.append(found[1])
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        assert scripts and all(f'nonce="{found[1]}"' in tag for tag in scripts)
    assert nonces[0] != nonces[1]


async def test_every_answer_carries_the_policy_even_a_refusal_before_routing(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        unknown = await client.get("/nowhere", headers={"accept": "text/html"})
        wrong_method = await client.delete("/")
        api = await client.get("/api/v1/me")
    for answer in (unknown, wrong_method, api):
        assert answer.status_code in (401, 404, 405)
        script_policy(answer)
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_history_since_without_a_zone_is_utc(server, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.get("/api/v1/history", params={"since": "2020-01-01T00:00:00"})
    assert response.status_code == 200
    assert len(response.json()["events"]) == 1


async def test_history_since_out_of_range_is_refused(server, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.get(
        "/api/v1/history", params={"since": "0001-01-01T00:00:00+14:00"}
    )
    assert response.status_code == 422
    assert response.json()["type"] == "invalid-date"


async def test_body_that_is_not_utf8_is_a_400(server, browser_client):
    await login(browser_client, login_hint=JAN)
    response = await browser_client.patch(
        "/api/v1/me",
        content=b'{"language":"\xff"}',
        headers={**csrf(browser_client), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "bad-request"


@pytest.mark.parametrize(
    ("target", "back_to"),
    [
        ("/history", "/history"),  # a page of ours: honoured
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
async def test_the_language_switch_goes_back_only_to_a_page_of_ours(
    server, browser_client, target, back_to
):
    """No open redirect: the page to go back to after choosing a language is a path here."""
    await browser_client.get("/")  # the CSRF cookie
    switched = await browser_client.post(
        "/language",
        data={"language": "fr", "next": target, "_csrf_token": browser_client.cookies["csrftoken"]},
    )
    assert (switched.status_code, switched.headers["location"]) == (303, back_to)
