"""The citizen's profile API and the OpenAPI document."""

from __future__ import annotations

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


async def test_security_headers(server, browser_client):
    response = await browser_client.get("/")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


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
