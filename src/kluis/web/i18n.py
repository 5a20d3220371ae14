"""Translations (Babel catalogs nl, fr, en, de) and the language of the current request.

Catalogs are the `.po` files under `locale/`; they are compiled in memory at start-up, so
there is no build step and no compiled file to forget. The language of a request comes from
the `kluis_lang` cookie (set by the language switch and at login from the person's
preference), else from Accept-Language, else the default.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_COOKIE = "kluis_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English", "de": "Deutsch"}

_language: ContextVar[str] = ContextVar("kluis_language", default="nl")


@cache
def translations(language: str) -> NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def current_language() -> str:
    return _language.get()


def set_language(language: str) -> None:
    _language.set(language)


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """Translate into `language` inside the block: an e-mail speaks its recipient's language,
    whatever the language of the request that sends it."""
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def gettext(message: str, **params: object) -> str:
    text = translations(_language.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


_ = gettext


def negotiate(cookie: str | None, accept_language: str | None, supported: list[str]) -> str:
    if cookie in supported:
        return cookie  # type: ignore[return-value]
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _sep, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, tag.split("-")[0].lower()))
    for _weight, tag in sorted(ranked, key=lambda r: -r[0]):
        if tag in supported:
            return tag
    return supported[0]


def language_cookie(language: str, secure: bool) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE,
        value=language,
        max_age=365 * 24 * 3600,
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def language_middleware(supported: list[str], default: str):  # type: ignore[no-untyped-def]
    """ASGI middleware factory that sets the request's language for everything inside it."""
    ordered = [default, *[lang for lang in supported if lang != default]]

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                headers = dict(scope.get("headers", []))
                cookies = _parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
                accept = headers.get(b"accept-language", b"").decode("latin-1")
                _language.set(negotiate(cookies.get(LANGUAGE_COOKIE), accept, ordered))
            await app(scope, receive, send)

        return middleware

    return factory


def _parse_cookie(raw: str) -> dict[str, str]:
    out = {}
    for part in raw.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name] = value
    return out
