"""Every request observed: its request id, one access-log line, its HTTP metrics; and
`/metrics`, where Prometheus reads them.

`observed(app)` wraps the whole application, outside Litestar's routing, so it also sees
the requests no route takes (404, 405) and every response an exception handler made. The
access line and the metrics name the route's *template* (`/auth/login/{provider:str}`),
never the path or query string a person sent: a `login_hint` in a query may be an NRN.

Litestar's own Prometheus middleware was not used: it runs inside a route's middleware
stack, so it never counts what no route took, and its endpoint cannot add the queue
depth measured at scrape time nor refuse a caller without the metrics token.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from time import perf_counter

from litestar import Request, Response, get
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kluis import metrics
from kluis.errors import NotFound, Unauthenticated
from kluis.logs import redact, request_id
from kluis.settings import Settings
from kluis.tasks import queue_depth
from kluis.text import N_

REQUEST_ID_HEADER = "x-request-id"
# A proxy's id is kept when it is plainly an id; anything else could be a header injection.
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes ask every few seconds: their access lines are for debugging only.
PROBES = ("/health/", "/metrics")
UNMATCHED = "unmatched"
# Health and metrics: no session looked up (idp_bridge's identity middleware), no CSRF
# cookie set; they change nothing.
OPERATIONS = {"sessionless": True, "exclude_from_csrf": True}

access_log = logging.getLogger("kluis.access")
log = logging.getLogger(__name__)


# An id is logged with each line and returned in the X-Request-ID header. The logs' NRN
# net (`kluis.logs.redact`) masks any run of digits that reads as a valid number, and about
# one random 32-hex id in ten thousand (nginx's `$request_id`, ours) holds one: the client
# would be left with an id no log line carries. Such an id is not used.
def _loggable(rid: str) -> bool:
    return redact(rid) == rid


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            usable = WELL_FORMED_ID.fullmatch(candidate) and _loggable(candidate)
            return candidate if usable else None
    return None


def new_request_id() -> str:
    """32 hex characters, drawn again in the rare case the logs would mask them."""
    while True:
        rid = uuid.uuid4().hex
        if _loggable(rid):
            return rid


def observed(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: request id, access log and HTTP metrics for every HTTP request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rid = _incoming_id(scope) or new_request_id()
        token = request_id.set(rid)
        status = 500  # if the application fails before it answers
        started = perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await app(scope, receive, send_observed)
        finally:
            seconds = perf_counter() - started
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = scope.get("path_template") or UNMATCHED
            metrics.http_requests.labels(method, route, str(status)).inc()
            metrics.http_duration.labels(method, route).observe(seconds)
            milliseconds = round(seconds * 1000, 1)
            access_log.log(
                logging.DEBUG if route.startswith(PROBES) else logging.INFO,
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                milliseconds,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": milliseconds,
                },
            )
            request_id.reset(token)

    return middleware


class MetricsTokenInvalid(Unauthenticated):
    default_type = "metrics-token-invalid"
    default_message = N_("This address needs the metrics token.")


def check_metrics_access(settings: Settings, authorization: str | None) -> None:
    """The metrics token as a bearer token; without a configured token, no one in
    production (the endpoint is not there) and anyone elsewhere."""
    expected = settings.ops.metrics_token
    if not expected:
        if settings.env == "production":
            raise NotFound()
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise MetricsTokenInvalid()


@get("/metrics", opt=OPERATIONS, include_in_schema=False)
async def metrics_endpoint(request: Request) -> Response[bytes]:
    """Prometheus's scrape: every metric in its text format."""
    settings: Settings = request.app.state.settings
    check_metrics_access(settings, request.headers.get("authorization"))
    try:
        depth: int | None = await queue_depth(settings)
    except Exception as exc:  # the metrics are still worth having without it
        log.warning("the task queue's depth could not be measured: %r", exc)
        depth = None
    return Response(await metrics.exposition(depth), media_type=metrics.CONTENT_TYPE)
