"""The OpenAPI document at /schema/openapi.json, with the refusals every operation can give.

Litestar documents what a handler returns, and for a handler with parameters a 400 in the
shape of its own exceptions. The platform never answers in that shape: every refusal goes
through `kluis.web.errors` and leaves as RFC 9457 problem details. So after Litestar has
built the document, `document_refusals` puts the problem schema where Litestar's shape was,
and tells on every operation that any other 4xx, and a 503, is a problem too. Handlers
Litestar cannot describe from their signature name an `operation_class` from here: those
that read their own body (`reads_body`) and those that answer with a stored file
(`Download`). A client (the mobile app, an office's software) and the API fuzzing test
(tests/integration/kluis/web/test_openapi.py) read one truthful contract.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.enums import ParamType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

from kluis.web.errors import PROBLEM_MEDIA_TYPE

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(
            type=OpenAPIType.STRING,
            pattern="^[a-z0-9]+(-[a-z0-9]+)*$",
            description="A stable slug to act on: `quota-exceeded`, `scanner-unavailable`, …",
        ),
        "title": Schema(type=OpenAPIType.STRING, description="For people, in their language"),
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": Schema(type=OpenAPIType.STRING),
    },
    description="A refusal as RFC 9457 problem details",
)


FILE = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
TEXT = Schema(type=OpenAPIType.STRING)
UUID = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID)


def reads_body(description: str, content: dict[str, Schema]) -> type[Operation]:
    """An `operation_class` for a handler that reads its own body (a file streamed through
    the vault, a form parsed in order), which Litestar cannot describe from its signature."""
    body = RequestBody(
        description=description,
        required=True,
        content={media: OpenAPIMediaType(schema=schema) for media, schema in content.items()},
    )

    @dataclass
    class ReadsBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return ReadsBody


STREAMED_FILE = reads_body("The file itself, streamed", {"application/octet-stream": FILE})

_ANY_FILE = {"*/*": OpenAPIMediaType(schema=FILE)}


@dataclass
class Download(Operation):
    """The `operation_class` of a handler that answers with a stored file: its bytes in the
    type it was stored as, whole or (`Range`) in part."""

    def __post_init__(self) -> None:
        self.parameters = [
            *(self.parameters or []),
            Parameter(
                name="Range",
                param_in=ParamType.HEADER,
                required=False,
                schema=Schema(type=OpenAPIType.STRING),
                description="One range of bytes, `bytes=start-end`, `bytes=start-` or `bytes=-n`",
            ),
        ]
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(description="The file, as a download", content=_ANY_FILE),
            "206": OpenAPIResponse(
                description="The part of the file one `Range: bytes=…` asked for",
                content=_ANY_FILE,
                headers={
                    "Content-Range": OpenAPIHeader(
                        schema=Schema(
                            type=OpenAPIType.STRING, pattern="^bytes [0-9]+-[0-9]+/[0-9]+$"
                        ),
                        required=True,
                    )
                },
            ),
        }


def _problem(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))
        },
    )


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(title="Kluis", version="1", path="/schema")


def _in_litestar_shape(response: OpenAPIResponse | Reference) -> bool:
    """Whether this is Litestar's documentation of its own exception body."""
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    for media in response.content.values():
        schemas = [media.schema]
        if isinstance(media.schema, Schema) and media.schema.one_of:
            schemas = list(media.schema.one_of)
        for schema in schemas:
            if isinstance(schema, Schema) and "status_code" in (schema.properties or {}):
                return True
    return False


def document_refusals(openapi: OpenAPI) -> None:
    """Document the problem responses of every operation in `openapi`, in place."""
    openapi.components.schemas["Problem"] = PROBLEM
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for status, response in list(responses.items()):
                if _in_litestar_shape(response):
                    responses[status] = _problem(
                        response.description  # type: ignore[union-attr]
                        if status != "400"
                        else "Refused: a parameter or the body is not valid"
                    )
            responses.setdefault(
                "4XX",
                _problem(
                    "Refused: not logged in (401), not allowed (403), unknown or not yours "
                    "(404, never 403, so ids cannot be probed), in conflict with the current "
                    "state (409), gone (410), too large (413), of a type not accepted (415), "
                    "outside the file (416), not valid (422) or too many requests (429, with "
                    "Retry-After); the `type` says which refusal it is"
                ),
            )
            responses.setdefault(
                "503",
                _problem("Unavailable for now (the database or the scanner); try again later"),
            )
            operation.responses = responses
