"""`kluis registry …`: the population register's software as an API client, which pushes
death notices (docs/office-software.md, "Registry clients")."""

from __future__ import annotations

import json
from typing import Any

import click

from kluis.cli_support import OPERATOR
from kluis.cli_support import run_on_platform as _run

REGISTRY = "registry"  # acts.api_clients.REGISTRY: the kind of client these commands manage


@click.group()
def registry() -> None:
    """The population register's software, which pushes death notices."""


@registry.group("client")
def client() -> None:
    """The register's software as an API client (client credentials, `private_key_jwt`)."""


@client.command("add")
@click.argument("name")
@click.option(
    "--jwks",
    "jwks_file",
    required=True,
    type=click.File("r"),
    help="The software's public keys (a JWKS file); its assertions are signed with them.",
)
def client_add(name: str, jwks_file: Any) -> None:
    """Register the register's software as NAME; prints its client_id."""
    try:
        jwks = json.load(jwks_file)
    except ValueError as exc:
        raise click.ClickException("jwks-invalid: the key set is not JSON") from exc

    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            registered = await platform.office_clients.register_registry(
                session, name=name, jwks=jwks, actor=OPERATOR
            )
            return registered.client_id

    click.echo(_run(work))


@client.command("list")
def client_list() -> None:
    async def work(platform: Any) -> list[str]:
        async with platform.session_maker() as session:
            return [
                f"{c.client_id}\t{c.name}\t{c.created_at:%Y-%m-%d}\t"
                + (f"revoked {c.revoked_at:%Y-%m-%d}" if c.revoked_at else "active")
                for c in await platform.office_clients.registry_clients(session)
            ]

    for line in _run(work):
        click.echo(line)


@client.command("revoke")
@click.argument("client_id")
def client_revoke(client_id: str) -> None:
    """Revoke a registry client: its tokens stop working at once."""

    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            revoked = await platform.office_clients.revoke(
                session, client_id, actor=OPERATOR, kind=REGISTRY
            )
            return f"{revoked.client_id} revoked"

    click.echo(_run(work))
