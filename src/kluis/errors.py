"""The error family services raise. One handler (`kluis.web.errors`) maps them to HTTP.

Each error carries a stable problem `type` slug (the API contract) and a message id that is
translated when the response is rendered, so a service never needs to know the language.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kluis.text import N_


class ConfigurationError(RuntimeError):
    """Settings that must not run. Raised at start-up, never during a request."""


class AppError(Exception):
    status: ClassVar[int] = 400
    default_type: ClassVar[str] = "bad-request"
    default_message: ClassVar[str] = N_("The request could not be handled.")

    def __init__(
        self,
        message: str | None = None,
        *,
        type: str | None = None,
        params: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        if status is not None:
            self.status = status  # type: ignore[misc]
        self.message = message or self.default_message
        self.type = type or self.default_type
        self.params = params or {}
        super().__init__(f"{self.type}: {self.message}")


class NotFound(AppError):
    status = 404
    default_type = "not-found"
    default_message = N_("This page or item does not exist.")


class Unauthenticated(AppError):
    status = 401
    default_type = "login-required"
    default_message = N_("Please log in first.")


class Forbidden(AppError):
    status = 403
    default_type = "forbidden"
    default_message = N_("You may not do this.")


class Conflict(AppError):
    status = 409
    default_type = "conflict"
    default_message = N_("This conflicts with the current state.")


class Invalid(AppError):
    status = 422
    default_type = "invalid"
    default_message = N_("Some of the input is not valid.")


class Unavailable(AppError):
    status = 503
    default_type = "unavailable"
    default_message = N_("A service we depend on is unavailable. Please try again later.")


class RateLimited(AppError):
    """Too many requests in the window; `Retry-After` says when the next one is taken."""

    status = 429
    default_type = "rate-limited"
    default_message = N_("Too many requests. Please wait %(seconds)s s and try again.")

    def __init__(self, retry_after: int) -> None:
        super().__init__(params={"seconds": retry_after})
        self.headers = {"retry-after": str(retry_after)}
