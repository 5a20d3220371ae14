"""One mapping from errors to responses: problem+json for the API, a localized page else."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Template
from sqlalchemy.exc import DBAPIError

from kluis import metrics
from kluis.errors import AppError, Unavailable
from kluis.text import N_
from kluis.web.i18n import gettext

log = logging.getLogger("kluis.errors")

_HTTP_TYPES = {
    400: ("bad-request", N_("The request could not be handled.")),
    401: ("login-required", N_("Please log in first.")),
    403: ("forbidden", N_("You may not do this.")),
    404: ("not-found", N_("This page or item does not exist.")),
    405: ("method-not-allowed", N_("This action is not possible here.")),
    413: ("request-too-large", N_("The request is too large.")),
    429: ("too-many-requests", N_("Too many requests. Please wait a moment.")),
}
_JSON_PREFIXES = (
    "/.well-known/",
    "/api/",
    "/auth/backchannel-logout/",
    "/dev-idp/token",
    "/dev-idp/userinfo",
    "/health/",
    "/metrics",
    "/oauth/",
)


PROBLEM_MEDIA_TYPE = "application/problem+json"


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(_JSON_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def render_problem(
    request: Request,
    status: int,
    type_: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    metrics.refusals.labels(type_, str(status)).inc()
    if wants_json(request):
        body = {"type": type_, "title": title, "status": status, "detail": detail or title}
        return Response(
            content=body,
            status_code=status,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=headers,
        )
    return Template(
        template_name="error.html",
        context={"status": status, "type": type_, "title": title, "detail": detail},
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def handle_app_error(request: Request, exc: AppError) -> Response:
    message = gettext(exc.message, **exc.params)
    # Some refusals tell the client more in a header (a 429's Retry-After).
    headers = getattr(exc, "headers", None)
    return render_problem(request, exc.status, exc.type, message, headers=headers)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500:
        return handle_unexpected(request, exc)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        type_, message = "csrf-token-invalid", N_("Your form expired. Please reload the page.")
    else:
        type_, message = _HTTP_TYPES.get(
            status, ("bad-request", "The request could not be handled.")
        )
    detail = None
    if status == 400 and getattr(exc, "extra", None):
        detail = gettext("Some of the input is not valid.")
    return render_problem(request, status, type_, gettext(message), detail)


def handle_undecodable(request: Request, exc: UnicodeDecodeError) -> Response:
    # A body or parameter that is not valid UTF-8 is the client's mistake, not ours.
    message, type_ = gettext(_HTTP_TYPES[400][1]), _HTTP_TYPES[400][0]
    return render_problem(request, 400, type_, message, gettext("The request is not valid UTF-8."))


UNTRANSLATABLE_CHARACTER = "22021"  # PostgreSQL's character_not_in_repertoire


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


async def refuse_nul(request: Request) -> None:
    """Before every handler: a NUL in the path or the query string is never a name, a filter
    or a search, and PostgreSQL cannot even compare text with one (a 500 where a 400 is
    due). Bodies are checked field by field; `handle_database_error` catches the rest.

    A coroutine: Litestar would run a plain function in a worker thread."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
        raise AppError()


def handle_database_error(request: Request, exc: DBAPIError) -> Response:
    """Text PostgreSQL cannot store (a NUL in a field no check refused) is the client's
    400; a lost connection is a 503; anything else is ours."""
    if _sqlstate(exc) == UNTRANSLATABLE_CHARACTER:
        detail = gettext("Some of the input is not valid.")
        return render_problem(request, 400, "bad-request", gettext(_HTTP_TYPES[400][1]), detail)
    if not exc.connection_invalidated:
        return handle_unexpected(request, exc)
    return handle_lost_connection(request, exc)


def handle_lost_connection(request: Request, exc: Exception) -> Response:
    """A connection to the database lost (a restart, a failover) or refused: 503, try again.

    The pool does not test a connection before each use (a round trip per request, three
    with asyncpg, for an event of minutes a year). A connection that died since its last
    use fails here instead, and SQLAlchemy then drops every pooled connection older than
    that failure, so the next request connects afresh."""
    route = request.scope.get("path_template", "unmatched")
    log.warning("lost a connection on %s %s: %s", request.method, route, type(exc).__name__)
    return render_problem(
        request, 503, Unavailable.default_type, gettext(Unavailable.default_message)
    )


def handle_unexpected(request: Request, exc: Exception) -> Response:
    # The route's template, not the path: a path is what someone typed.
    route = request.scope.get("path_template", "unmatched")
    log.exception("unhandled error on %s %s", request.method, route, exc_info=exc)
    return render_problem(
        request, 500, "internal-error", gettext("Something went wrong on our side.")
    )


exception_handlers = {
    AppError: handle_app_error,
    HTTPException: handle_http_exception,
    UnicodeDecodeError: handle_undecodable,
    DBAPIError: handle_database_error,
    ConnectionError: handle_lost_connection,  # a refused connect: asyncpg raises it as is
    Exception: handle_unexpected,
}
