"""The error mapping's own decisions, without a server."""

from __future__ import annotations

from litestar import Request
from sqlalchemy.exc import DBAPIError

from kluis.web.errors import handle_database_error


class _Refused(Exception):
    sqlstate = "22021"  # what asyncpg's error says of text with a NUL


def test_text_the_database_cannot_store_is_the_clients_400() -> None:
    request = Request(
        {"type": "http", "method": "POST", "path": "/api/v1/x", "headers": [], "query_string": b""}
    )
    error = DBAPIError("INSERT …", {}, _Refused("invalid byte sequence for encoding UTF8: 0x00"))

    response = handle_database_error(request, error)

    assert response.status_code == 400
    assert response.content["type"] == "bad-request"
