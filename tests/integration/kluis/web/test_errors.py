"""A NUL in a path or query, which PostgreSQL cannot compare: refused before any handler
(the unit test of `handle_database_error` covers text it cannot store)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/documents", {"q": "brief\x00"}),
        ("/api/v1/documents", {"label": "werk\x00"}),
        ("/api/v1/documents", {"category": "\x00"}),
        ("/api/v1/offices", {"q": "Leuven\x00"}),
        ("/vault", {"q": "brief\x00"}),
    ],
)
async def test_a_nul_in_the_query_is_a_400_on_every_database(server, jan, path, params):
    response = await jan.get(path, params=params, headers={"accept": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "bad-request"


async def test_a_nul_in_a_path_parameter_is_a_400(server, jan):
    some = "0b0f6d5e-8e4a-4c3a-9a57-4d7f3f0c2b11"
    response = await jan.get(f"/api/v1/dossiers/{some}/questionnaires/{some}/files/%00")
    assert response.status_code == 400
