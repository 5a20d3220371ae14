"""`kluis notary …`: the notary register (offices, members) and the offices' API clients."""

from __future__ import annotations

import json
from typing import Any

import click

from kluis.cli_support import OPERATOR
from kluis.cli_support import run_on_platform as _run


@click.group()
def notary() -> None:
    """The notary register: offices, their members and their software's API clients."""


# -- offices ----------------------------------------------------------------------------


@notary.group("office")
def office() -> None:
    """Notary offices."""


@office.command("add")
@click.option("--name", required=True)
@click.option("--enterprise-number", required=True)
@click.option("--municipality")
@click.option("--address", help="Street, number, postcode and municipality.")
@click.option("--email", help="The office's e-mail address.")
def office_add(
    name: str,
    enterprise_number: str,
    municipality: str | None,
    address: str | None,
    email: str | None,
) -> None:
    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            office = await platform.register.add_office(
                session,
                name=name,
                enterprise_number=enterprise_number,
                municipality=municipality,
                address=address,
                email=email,
                actor=OPERATOR,
            )
            return f"{office.id}\t{office.enterprise_number}\t{office.name}"

    click.echo(_run(work))


@office.command("list")
def office_list() -> None:
    async def work(platform: Any) -> list[str]:
        async with platform.session_maker() as session:
            return [
                f"{o.id}\t{o.enterprise_number}\t{o.name}"
                for o in await platform.register.offices(session)
            ]

    for line in _run(work):
        click.echo(line)


# -- members ----------------------------------------------------------------------------


@notary.group("member")
def member() -> None:
    """Members of an office: notaries and staff, by national registry number."""


@member.command("add")
@click.option("--office", "office_number", required=True, help="The office's enterprise number.")
@click.option("--nrn", required=True, help="The member's national registry number.")
@click.option("--role", type=click.Choice(["notary", "staff"]), required=True)
def member_add(office_number: str, nrn: str, role: str) -> None:
    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            office = await platform.register.office_by_number(session, office_number)
            await platform.register.add_member(session, office, nrn=nrn, role=role, actor=OPERATOR)
            return f"{role} added to {office.name}"

    click.echo(_run(work))


@member.command("remove")
@click.option("--office", "office_number", required=True)
@click.option("--nrn", required=True)
def member_remove(office_number: str, nrn: str) -> None:
    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            office = await platform.register.office_by_number(session, office_number)
            await platform.register.remove_member(session, office, nrn=nrn, actor=OPERATOR)
            return f"member removed from {office.name}"

    click.echo(_run(work))


# -- API clients --------------------------------------------------------------------------


@notary.group("client")
def client() -> None:
    """An office's own software as an API client (docs/office-software.md)."""


@client.command("add")
@click.option("--office", "office_number", required=True, help="The office's enterprise number.")
@click.option("--name", required=True, help="What the software is called, as histories show.")
@click.option(
    "--jwks",
    "jwks_file",
    required=True,
    type=click.File("r"),
    help="The software's public keys (a JWKS file); its assertions are signed with them.",
)
def client_add(office_number: str, name: str, jwks_file: Any) -> None:
    """Register the office's software; prints its client_id."""
    try:
        jwks = json.load(jwks_file)
    except ValueError as exc:
        raise click.ClickException("jwks-invalid: the key set is not JSON") from exc

    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            office = await platform.register.office_by_number(session, office_number)
            registered = await platform.office_clients.register(
                session, office, name=name, jwks=jwks, actor=OPERATOR
            )
            return registered.client_id

    click.echo(_run(work))


@client.command("list")
@click.option("--office", "office_number", required=True, help="The office's enterprise number.")
def client_list(office_number: str) -> None:
    async def work(platform: Any) -> list[str]:
        async with platform.session_maker() as session:
            office = await platform.register.office_by_number(session, office_number)
            return [
                f"{c.client_id}\t{c.name}\t{c.created_at:%Y-%m-%d}\t"
                + (f"revoked {c.revoked_at:%Y-%m-%d}" if c.revoked_at else "active")
                for c in await platform.office_clients.clients(session, office)
            ]

    for line in _run(work):
        click.echo(line)


@client.command("revoke")
@click.argument("client_id")
def client_revoke(client_id: str) -> None:
    """Revoke an office's client: its tokens stop working at once (the register's clients:
    `kluis registry client revoke`)."""

    async def work(platform: Any) -> str:
        async with platform.session_maker() as session:
            revoked = await platform.office_clients.revoke(
                session, client_id, actor=OPERATOR, kind="office"
            )
            return f"{revoked.client_id} revoked"

    click.echo(_run(work))
