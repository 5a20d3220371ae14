"""`kluis keys …`: the platform's master keys, blind-index key and root secret (docs/keys.md).

The commands name keys by label and id and say which master key is current; they never
show key material (with PKCS#11 the token would not even give it).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from kluis.cli_support import settings_or_fail
from kluis.errors import ConfigurationError
from kluis.keys import KeyInfo, ManagedKeys, managed_keys_from

INIT_FIRST = "run `kluis keys init` first"


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def _keys(*, init: bool = False) -> ManagedKeys:
    """The configured provider; only `init` may make a key file or keys that are missing."""
    settings = settings_or_fail()
    if settings.key_provider == "local-file" and not init:
        path = settings.path(settings.key_file)
        if not path.exists():
            raise click.ClickException(f"no key file at {path}: {INIT_FIRST}")
    with _refusals():
        return managed_keys_from(settings, require_keys=False)


def _line(key: KeyInfo) -> str:
    return "\t".join((key.kind, key.label, key.key_id or "-", "current" if key.current else ""))


@click.group()
def keys() -> None:
    """The key provider's keys: set up, rotate, list (never their values)."""


@keys.command("init")
def keys_init() -> None:
    """Create the keys the provider lacks: a first master key, the blind-index key, the
    root secret. Idempotent: keys that exist are left as they are."""
    provider = _keys(init=True)
    with _refusals():
        created = provider.create_missing()
        current = provider.current_key_id
    for key in created:
        click.echo(f"created {key.kind} key {key.label}")
    if not created:
        click.echo("every key exists already: nothing created")
    click.echo(f"current master key: {current}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new master key current; older master keys stay to open what they sealed."""
    provider = _keys()
    with _refusals():
        previous = provider.current_key_id
        new = provider.rotate()
    click.echo(f"current master key: {new.key_id} ({new.label}), was {previous}")
    click.echo(
        "Running processes seal under it within a minute. Values sealed under older keys "
        "stay sealed under them and still open: keep the older keys."
    )


@keys.command("list")
def keys_list() -> None:
    """Every key: kind, label, id (master keys) and which master key is current."""
    provider = _keys()
    with _refusals():
        described = provider.describe()
    if not described:
        raise click.ClickException(f"no keys: {INIT_FIRST}")
    for key in described:
        click.echo(_line(key))


@keys.command("reseal")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
def keys_reseal(batch: int) -> None:
    """Re-seal every stored value under the current master key (after `rotate`).

    Idempotent and safe while the platform runs; exit 1 if a value did not open."""
    from kluis import db as database
    from kluis.app import import_all_models
    from kluis.audit import anchoring_key
    from kluis.reseal import reseal

    settings = settings_or_fail()
    provider = _keys()
    with _refusals():
        current = provider.current_key_id
    import_all_models()

    async def work() -> Any:
        engine = database.create_engine(settings)
        try:
            sessions = database.session_maker(engine, anchoring_key(provider))
            return await reseal(sessions, provider, batch=batch)
        finally:
            await engine.dispose()

    report = asyncio.run(work())
    found = ", ".join(f"{key_id} {n}" for key_id, n in sorted(report.found.items())) or "none"
    click.echo(f"sealed values found, by master key: {found}")
    for column, n in sorted(report.resealed.items()):
        click.echo(f"{column}: {n} re-sealed under {current}")
    if report.changed_meanwhile:
        click.echo(
            f"{report.changed_meanwhile} changed while re-sealing: "
            "run `kluis keys reseal` again to check them"
        )
    for unopened in report.unopened:
        click.echo(f"UNOPENED {unopened}", err=True)
    if report.ok and not report.changed_meanwhile:
        click.echo(f"every sealed value is sealed under {current}")
    sys.exit(0 if report.ok else 1)
