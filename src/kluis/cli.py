"""The `kluis` command for developers and operators."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

import click
import msgspec

from kluis import audit
from kluis import db as database
from kluis.cli_keys import keys
from kluis.cli_notary import notary
from kluis.cli_registry import registry
from kluis.cli_succession import succession
from kluis.cli_support import OPERATOR
from kluis.cli_support import run_on_platform as _run
from kluis.cli_support import settings_or_fail as _settings
from kluis.errors import AppError
from kluis.logs import granian_log_config
from kluis.settings import Settings


@click.group()
def main() -> None:
    """Kluis: the citizen vault platform."""


# -- running ------------------------------------------------------------------------------


def _serve_development(settings: Settings, app: Any) -> None:
    """One process on uvicorn: `kluis dev` hands it the app it built (with the project-local
    clamd's address), which a multi-process server cannot take."""
    import uvicorn

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        log_level=settings.log_level.lower(),
        # The access log would write request URLs, and a `login_hint` may carry an NRN.
        access_log=False,
    )


@main.command()
def dev() -> None:
    """Migrate, seed the demo and serve the development platform."""
    settings = _settings()
    if settings.env == "production":
        raise click.ClickException("`kluis dev` is for development; use `kluis serve`.")
    database.upgrade(settings)
    _seed()
    from kluis.app import create_app
    from vault.local_clamd import LocalClamd, clamd_binary

    # `kill` (SIGTERM) must stop the worker and clamd too, as Ctrl-C does: uvicorn re-raises
    # the signal once it has shut down, and this handler turns it into an exit that runs the
    # `finally` below (the default action would end the process and leave them running).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    clamd, worker = None, None
    try:
        if settings.vault.local_clamd and clamd_binary():
            clamd = LocalClamd(
                settings.path(settings.data_dir) / "clamav", settings.vault.max_upload_bytes
            )
            url = clamd.start()
            click.echo(f"clamd (project-local, test signatures) on {url}")
            settings = msgspec.structs.replace(
                settings, vault=msgspec.structs.replace(settings.vault, clamd_url=url)
            )
        elif not settings.vault.clamd_url:
            click.echo(
                "ClamAV is not installed: the development scanner knows only test signatures"
            )
        # The worker sends what the platform queues (mail) and, with its embedded scheduler,
        # runs the periodic succession sweep; the same settings, its own process.
        schedule = settings.path(settings.data_dir) / "celerybeat-schedule"
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                *("-m", "kluis.cli", "worker", "--pool", "solo", "--concurrency", "1"),
                *("--beat", "--schedule", str(schedule)),
            ],
            # A group of its own: its embedded beat is a child process, which must stop
            # with it even when the worker has to be killed.
            process_group=0,
        )
        click.echo(f"task worker started (pid {worker.pid})")
        if settings.mail.mailer == "outbox":
            click.echo(f"e-mail is kept, not sent: {settings.base_url}/dev/outbox")
        click.echo(f"Kluis runs on {settings.base_url}")
        _serve_development(settings, create_app(settings))
    finally:
        if worker is not None:
            _stop_group(worker)
        if clamd is not None:
            clamd.stop()


def _stop_group(leader: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the leader's process group (a warm shutdown: unfinished tasks go back to
    the broker), then SIGKILL to whatever of it is left after 15 s, or after the leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        leader.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGKILL)
    leader.wait()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@main.command()
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes."
)
def serve(workers: int) -> None:
    """Serve the platform on granian, in several processes (migrate the schema first)."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    settings = _settings()
    _metrics_shared_by_processes(settings)  # before anything imports prometheus_client
    _ensure_relying_party_keys()  # once, before several workers could race to create them
    Granian(
        "kluis.app:create_app",
        factory=True,  # each process builds its platform from the same settings
        interface=Interfaces.ASGI,
        # Named, not left to granian's "auto" (whichever loop happens to be installed):
        # with hiredis, uvloop took about 6 % off the notary look-up's median
        # (docs/benchmarks.md, "Scale").
        loop=Loops.uvloop,
        address=settings.host,
        port=settings.port,
        workers=workers,
        respawn_failed_workers=True,
        log_level=settings.log_level.lower(),  # type: ignore[arg-type]
        # Off: it would write request URLs, and a `login_hint` may carry an NRN.
        log_access=False,
        log_dictconfig=granian_log_config(),  # granian's lines through our handler
    ).serve()


def _metrics_shared_by_processes(settings: Settings) -> None:
    """prometheus_client's multiprocess mode: each server process keeps its counts in files
    in `PROMETHEUS_MULTIPROC_DIR` (the operator's, or `{data_dir}/metrics`), which
    `/metrics` adds up. The files of an earlier run are removed: counters start at zero
    when the server starts, as Prometheus expects of a restarted target."""
    import os
    from pathlib import Path

    folder = Path(
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", str(settings.path(settings.data_dir) / "metrics")
        )
    )
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_options", nargs=-1, type=click.UNPROCESSED)
def worker(celery_options: tuple[str, ...]) -> None:
    """Run a task worker (mail, the succession sweep). Options go to `celery worker`,
    e.g. --concurrency 4."""
    from kluis.tasks import worker_arguments
    from kluis.worker import worker_app

    settings = _settings()
    worker_app(settings).worker_main(["worker", *worker_arguments(settings), *celery_options])


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_options", nargs=-1, type=click.UNPROCESSED)
def beat(celery_options: tuple[str, ...]) -> None:
    """Run the periodic-task scheduler: exactly one per platform. Options go to `celery beat`."""
    from kluis.tasks import beat_arguments
    from kluis.worker import worker_app

    settings = _settings()
    worker_app(settings).start(["beat", *beat_arguments(settings), *celery_options])


def _ensure_relying_party_keys() -> None:
    async def work(platform: Any) -> None:
        async with platform.session_maker() as session:
            await platform.identity.rp_keys.ensure(session)

    _run(work)


# -- database -----------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    database.upgrade(_settings(), revision)
    click.echo("database schema is up to date")


# -- demo ---------------------------------------------------------------------------------


def _seed() -> None:
    from kluis.demo import load_demo

    async def work(platform: Any) -> str:
        demo = load_demo(platform.settings.path(platform.settings.demo_file))
        async with platform.session_maker() as session:
            people = 0
            for citizen in demo.citizens:
                _person, created = await platform.identity.people.register(
                    session,
                    nrn=citizen.nrn,
                    given_name=citizen.given_name,
                    surname=citizen.surname,
                    email=citizen.email,
                    language=citizen.language,
                )
                people += created
            offices = 0
            for entry in demo.offices:
                try:
                    office = await platform.register.office_by_number(
                        session, entry.enterprise_number
                    )
                except AppError:
                    office = await platform.register.add_office(
                        session,
                        name=entry.name,
                        enterprise_number=entry.enterprise_number,
                        municipality=entry.municipality,
                        address=entry.address,
                        email=entry.email,
                        actor=OPERATOR,
                    )
                    offices += 1
                for member in entry.members:
                    await platform.register.add_member(
                        session, office, nrn=member.nrn, role=member.role, actor=OPERATOR
                    )
            return f"demo: {people} new citizens, {offices} new offices"

    click.echo(_run(work))


@main.group()
def demo() -> None:
    """The demo data set (config/demo.toml)."""


@demo.command("seed")
def demo_seed() -> None:
    """Create the demo citizens and offices (idempotent)."""
    if _settings().env == "production":
        raise click.ClickException("the demo data set is never seeded in production")
    _seed()


# -- identity providers -------------------------------------------------------------------


@main.group()
def idp() -> None:
    """The platform's relying-party keys towards identity providers."""


@idp.group("keys")
def idp_keys() -> None:
    """Signing and encryption keys published at /.well-known/jwks.json."""


@idp_keys.command("rotate")
def idp_keys_rotate() -> None:
    """Publish new keys; the previous encryption key keeps decrypting for 24 hours."""

    async def work(platform: Any) -> list[str]:
        async with platform.session_maker() as session:
            return await platform.identity.rp_keys.rotate(session)

    click.echo("new keys: " + ", ".join(_run(work)))


# -- storage ------------------------------------------------------------------------------


@main.group()
def storage() -> None:
    """The vault's storage locations."""


@storage.command("scrub")
@click.option("--repair", is_flag=True, help="Rebuild damaged fragments and remove orphans.")
@click.option(
    "--grace-seconds",
    default=3600.0,
    show_default=True,
    help="Leave fragments and unfinished writes younger than this alone (uploads in flight).",
)
def storage_scrub(repair: bool, grace_seconds: float) -> None:
    """Check every fragment of every document; with --repair, mend what can be mended."""
    from sqlalchemy import func, select

    from vault.models import Document
    from vault.scrub import Scrubber

    async def work(platform: Any) -> Any:
        async with platform.session_maker() as session:
            total = await session.scalar(select(func.count()).select_from(Document)) or 0
            with click.progressbar(length=total, label="documents", file=sys.stderr) as bar:
                return await Scrubber(platform.documents).run(
                    session,
                    repair=repair,
                    actor=OPERATOR,
                    grace_seconds=grace_seconds,
                    progress=bar.update,
                )

    report = _run(work)
    click.echo(
        f"{report.documents} documents, {report.fragments_checked} fragments checked; "
        f"{len(report.damaged)} damaged, {len(report.repaired)} repaired, "
        f"{len(report.unreadable)} unreadable; {len(report.orphans)} orphaned fragments"
        + (" removed" if repair else " found")
        + (f"; {report.incomplete_removed} unfinished writes removed" if repair else "")
        + (
            f"; {len(report.resurrected)} destroyed documents back from a restore"
            if report.resurrected
            else ""
        )
        + (", destroyed again" if report.redestroyed else "")
    )
    for document in report.unreadable:
        click.echo(f"UNREADABLE {document}", err=True)
    for document in set(report.damaged) - set(report.repaired):
        click.echo(f"DAMAGED {document}", err=True)
    for document in set(report.resurrected) - set(report.redestroyed):
        click.echo(f"DESTROYED BUT BACK {document} (run with --repair)", err=True)
    sys.exit(0 if report.healthy else 1)


@main.group("vault")
def vault_group() -> None:
    """Citizens' vaults."""


@vault_group.command("quota")
@click.option("--nrn", required=True, help="The citizen's national registry number.")
@click.option("--tier", required=True, help="One of the settings' vault.quota_tiers.")
def vault_quota(nrn: str, tier: str) -> None:
    """Give a citizen one of the quota tiers (e.g. 250MB, 500MB, 1GB)."""
    from idp_bridge import parse_nrn

    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            person = await platform.identity.people.by_nrn(session, parse_nrn(nrn).digits)
            if person is None:
                raise AppError("No citizen with this number has a vault.", type="person-not-found")
            quota = await platform.documents.set_tier(session, person, tier, OPERATOR)
            return f"quota set to {tier} ({quota} bytes)"

    click.echo(_run(work))


# -- history ------------------------------------------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The history's hash chains."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute every chain; exit 1 if any was altered."""

    async def work(platform: Any) -> audit.ChainReport:
        async with platform.session_maker() as session:
            return await audit.verify(session)

    report = _run(work)
    click.echo(f"{report.subjects} histories, {report.events} events checked")
    for subject, problem in report.broken.items():
        click.echo(f"BROKEN {subject}: {problem}", err=True)
    sys.exit(0 if report.ok else 1)


@audit_group.command("anchor")
def audit_anchor() -> None:
    """Anchor the heads of histories written before anchoring existed (once, after the
    upgrade that brought it); exit 1 if a history is broken and was left unanchored."""

    async def work(platform: Any) -> tuple[int, list[Any]]:
        async with platform.session_maker() as session:
            return await audit.anchor(session)

    anchored, refused = _run(work)
    click.echo(f"{anchored} histories anchored")
    for subject in refused:
        click.echo(f"BROKEN {subject}: not anchored, see `kluis audit verify`", err=True)
    sys.exit(1 if refused else 0)


# The notary register and the offices' API clients: commands of their own module.
main.add_command(keys)
main.add_command(notary)
main.add_command(registry)
main.add_command(succession)

if __name__ == "__main__":
    main()
