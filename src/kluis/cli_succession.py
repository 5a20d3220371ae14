"""`kluis succession …`: the after-death rules, run by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from kluis.cli_support import settings_or_fail


@click.group()
def succession() -> None:
    """After death: the periodic sweep of succession timers."""


@succession.command("sweep")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Run as if it were this time (ISO 8601, e.g. 2028-11-23T12:00:00Z); not in production.",
)
def sweep(as_of: str | None) -> None:
    """Run every succession step due by now (or by --as-of): the end of the ten-day
    safeguard, reminders to heirs, the erasure 24 months after death."""
    import asyncio

    from kluis.worker import sweep as run_sweep

    settings = settings_or_fail()
    when = datetime.now(UTC)
    if as_of is not None:
        if settings.env == "production":
            raise click.ClickException(
                "--as-of is refused in production: the sweep runs as of now."
            )
        try:
            when = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter("give an ISO 8601 time", param_hint="--as-of") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    report = asyncio.run(run_sweep(settings, when))
    steps = ", ".join(f"{kind}: {n}" for kind, n in sorted(report.done.items())) or "nothing due"
    documents = "document" if report.destroyed == 1 else "documents"
    click.echo(f"as of {when.isoformat()}: {steps}; {report.destroyed} {documents} destroyed")
