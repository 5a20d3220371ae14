"""CSRF on every route that changes something: a request a forged page could make with a
citizen's cookies, without the token only the platform's own pages and app know, is refused
before the route runs. Every route that opts out of the check says why below; a new one that
does not fails `test_every_route_that_skips_the_check_is_known`."""

from __future__ import annotations

import re
import uuid

from litestar.routes import HTTPRoute
from sqlalchemy import func, select

from kluis.audit import HistoryEvent
from tests.conftest import LiveServer

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# (method, path template) → why the CSRF middleware does not check it.
SKIPS_THE_CHECK = {
    ("POST", "/auth/callback/{provider:str}"): "an identity provider's form post, bound by state",
    ("POST", "/auth/backchannel-logout/{provider:str}"): "a provider's server, a signed token",
    ("POST", "/dev-idp/token"): "the development provider's token endpoint, server to server",
    ("POST", "/oauth/token"): "the offices' software, a signed client assertion",
    ("POST", "/offices/{office_id:uuid}/deeds"): "a streamed form: checks its token itself",
    ("POST", "/dossiers/{dossier_id:uuid}/messages"): "a streamed form: checks its token itself",
    ("POST", "/dossiers/{dossier_id:uuid}/documents"): "a streamed form: checks its token itself",
    (
        "POST",
        "/dossiers/{dossier_id:uuid}/questionnaires/{questionnaire_id:uuid}/step",
    ): "a streamed form: checks its token itself",
}
PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


def unsafe_routes(server: LiveServer) -> dict[tuple[str, str], bool]:
    """Every (method, path template) that may change something → whether it skips the
    CSRF middleware."""
    found = {}
    for route in server.app.routes:
        assert isinstance(route, HTTPRoute)
        for handler in route.route_handlers:
            for method in handler.http_methods & UNSAFE:
                found[method, route.path] = bool(handler.opt.get("exclude_from_csrf"))
    return found


def example_path(template: str) -> str:
    def value(match: re.Match[str]) -> str:
        return str(uuid.uuid4()) if match[2] == "uuid" else "itsme" if match[2] == "str" else "1"

    return PARAMETER.sub(value, template)


async def history_entries(server: LiveServer) -> int:
    async with server.sessions() as db:
        return await db.scalar(select(func.count()).select_from(HistoryEvent)) or 0


async def test_every_route_that_skips_the_check_is_known(server):
    skipping = {route for route, skips in unsafe_routes(server).items() if skips}
    assert skipping == SKIPS_THE_CHECK.keys()


async def test_every_other_unsafe_route_refuses_a_cookie_request_without_its_token(server, jan):
    checked = [route for route, skips in unsafe_routes(server).items() if not skips]
    before = await history_entries(server)
    refused = {}
    for method, template in checked:
        # Jan's cookies go along, as a forged page's request would carry them; no token.
        response = await jan.request(
            method, example_path(template), headers={"accept": "application/json"}, json={}
        )
        refused[method, template] = (response.status_code, "csrf-token-invalid" in response.text)
    assert len(checked) > 50, len(checked)
    assert {r: answer for r, answer in refused.items() if answer != (403, True)} == {}
    assert await history_entries(server) == before  # nothing ran, not even into a history
