"""The web shell: layout, error pages and problem+json, i18n, security headers, CSRF."""

from kluis.web.errors import exception_handlers
from kluis.web.i18n import _, current_language, gettext
from kluis.web.shell import (
    csrf_config,
    csrf_middleware,
    security_headers,
    static_files,
    template_config,
)

__all__ = [
    "_",
    "csrf_config",
    "csrf_middleware",
    "current_language",
    "exception_handlers",
    "gettext",
    "security_headers",
    "static_files",
    "template_config",
]
