"""The OpenAPI contract at /schema/openapi.json, held to: every refusal documented as a
problem, and schemathesis sending generated and mutated requests to every operation with a
citizen's, a notary's and an heir's session, in a world where every kind of id exists. No
answer may be a 500, and every answer must be what the document says: its status, its
content type, its headers and its body."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.support.world import PATH_IDS, World, cast_of

PERSONAS = ("owner", "notary_sent_to", "contact_with_share")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
# Not `negative_data_rejection`: Litestar converts JSON bodies leniently, as it must query
# strings (`"confidential": 0` is false), so some schema-invalid bodies are rightly taken.
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@dataclass
class Fuzzing:
    world: World
    sessions: dict[str, dict[str, str]]  # persona: cookies


@pytest.fixture(scope="module")
async def fuzzing(live_server, platform) -> AsyncIterator[Fuzzing]:
    async with cast_of(live_server, platform) as cast:
        world = await cast.build_world()
        sessions = {p: dict(cast.clients[p].cookies.items()) for p in PERSONAS}
        yield Fuzzing(world, sessions)


def with_world_ids(document: dict[str, Any], world: World) -> dict[str, Any]:
    """`document` with the world's ids as examples of the path parameters they fill, so the
    fuzzer reaches what lies behind an existing id and not only the 404 of a random one."""
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                ids = PATH_IDS.get(parameter["name"]) if parameter["in"] == "path" else None
                if ids:
                    parameter["examples"] = {
                        str(n): {"value": ids_of(world)} for n, ids_of in enumerate(ids)
                    }
    return document


@pytest.fixture(scope="module")
def world_schema(fuzzing: Fuzzing, live_server, tmp_path_factory) -> Path:
    """The document with the world's ids, in a file for schemathesis's command."""
    document = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    schema = tmp_path_factory.mktemp("openapi") / "openapi.json"
    schema.write_text(json.dumps(with_world_ids(document, fuzzing.world)))
    return schema


def test_every_operation_documents_its_refusals_as_problems(live_server) -> None:
    document = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, path_item in document["paths"].items():
        for method, operation in path_item.items():
            responses = operation["responses"]
            assert {"4XX", "503"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")) and path != "/oauth/token":
                    content = response["content"]
                    assert content == {"application/problem+json": {"schema": problem}}, (
                        method,
                        path,
                        status,
                    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_operation_answers_as_documented(
    persona: str, fuzzing: Fuzzing, world_schema: Path, live_server, tmp_path: Path
) -> None:
    """schemathesis's own command, as docs/security.md runs it by hand, on examples, the
    schema's coverage cases and generated data (a fixed seed: a failure shows again)."""
    cookies = fuzzing.sessions[persona]
    run = subprocess.run(  # noqa: S603 - our own command line
        [
            SCHEMATHESIS,
            "run",
            str(world_schema),
            f"--url={live_server.url}",
            f"--header=Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}",
            f"--header=x-csrftoken: {cookies['csrftoken']}",
            # Ending the session would leave the rest of the run logged out.
            "--exclude-path=/auth/logout",
            f"--checks={','.join(CHECKS)}",
            "--phases=examples,coverage,fuzzing",
            "--max-examples=25",
            "--seed=20261124",
            "--generation-database=none",
            "--no-color",
            "--output-sanitize=false",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]


def body_fields(annotation: Any, depth: int = 0) -> set[str]:
    """The field names of a request body type, nested ones included."""
    names: set[str] = set()
    if depth > 4:
        return names
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        hints = typing.get_type_hints(annotation)
        for name in annotation.__struct_fields__:
            names |= {name, *body_fields(hints[name], depth + 1)}
    for argument in typing.get_args(annotation):
        names |= body_fields(argument, depth + 1)
    return names


def test_no_body_field_is_named_like_a_dependency(live_server) -> None:
    """Litestar takes a refused body field that shares its name with a dependency for a
    fault in the dependency: a 500 where a 400 was due (PATCH /api/v1/me once had one)."""
    for route in live_server.app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                shared = body_fields(data.annotation) & set(handler.resolve_dependencies())
                assert not shared, (route.path, shared)
