"""The security headers' middleware (`kluis.web.shell.security_headers`)."""

from __future__ import annotations

from typing import Any

from kluis.settings import load_settings
from kluis.web.shell import allow_form_target, security_headers


async def policy_of(path: str) -> str:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if path == "/posts-away":
            allow_form_target(scope, "https://slo.idp.test/logout?binding=post")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    middleware = security_headers(load_settings({"KLUIS_ENV": "test"}))(app)
    await middleware({"type": "http", "path": path, "headers": []}, None, send)  # type: ignore[arg-type]
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return headers["content-security-policy"]


async def test_a_page_may_post_one_form_to_the_site_it_names() -> None:
    assert "form-action 'self' https://slo.idp.test" in (await policy_of("/posts-away")).split("; ")


async def test_other_pages_post_only_to_us() -> None:
    # The test settings' providers are the development one, on our own origin.
    assert "form-action 'self'" in (await policy_of("/home")).split("; ")
