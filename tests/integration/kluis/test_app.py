"""The assembled application, over every route it serves."""

from __future__ import annotations

from litestar.utils import is_async_callable

from tests.conftest import LiveServer

HOOKS = ("before_request", "after_request", "after_response")


def test_no_guard_or_request_hook_leaves_the_event_loop(live_server: LiveServer) -> None:
    """Litestar runs a plain function given as a guard or a request hook in its thread
    pool: a hop to a worker thread and back on every request, which the notary's look-up
    paid in its latency. Those checks are coroutines."""
    plain = set()
    for route in live_server.app.routes:
        for handler in route.route_handlers:
            for layer in handler.ownership_layers:
                hooks = [
                    *(layer.guards or ()),
                    *(getattr(layer, name, None) for name in HOOKS),
                ]
                for hook in filter(None, hooks):
                    function = getattr(hook, "func", hook)  # Litestar's wrapper keeps it
                    if not is_async_callable(function):
                        plain.add(getattr(function, "__qualname__", repr(function)))

    assert plain == set()
