"""What every `kluis` command module shares: the settings, and running a piece of work on a
freshly built platform (imported by `kluis.cli` and its command modules alike, so running
`python -m kluis.cli` imports no command module twice)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from kluis.audit import Actor
from kluis.errors import AppError, ConfigurationError
from kluis.logs import configure_logging
from kluis.settings import Settings, get_settings
from kluis.text import N_

T = TypeVar("T")
OPERATOR = Actor(label=N_("operator (command line)"))


def settings_or_fail() -> Settings:
    """The settings, with logging configured from them."""
    try:
        settings = get_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(settings)
    return settings


def run_on_platform(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(platform)` with a freshly built platform, and dispose of it after."""
    from kluis.app import build_platform

    async def main() -> T:
        platform = build_platform(settings_or_fail())
        try:
            return await work(platform)
        except AppError as exc:
            raise click.ClickException(f"{exc.type}: {exc.message}") from exc
        finally:
            await platform.aclose()

    return asyncio.run(main())
