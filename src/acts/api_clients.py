"""The offices' own software as API clients: registering a client (its public keys), issuing
access tokens to it, and recognising a token on a request. The population register's
software is an API client of the same kind (`kind` "registry"): it works for no office and
pushes death notices only.

Access tokens are opaque random strings, kept only as their SHA-256 and valid for ten
minutes. Not signed JWTs: every request then asks the database anyway (for the office's
name and the client's state), so revoking a client ends its tokens at once, a stolen copy
of the table is of no use, and the platform needs no token-signing key to rotate.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import OfficeSoftware, RegistryClient
from acts.models import NotaryOffice, OfficeApiAssertion, OfficeApiClient, OfficeApiToken
from kluis import audit
from kluis.audit import ACTION_LABELS, PLATFORM_SUBJECT, Actor
from kluis.errors import Invalid, NotFound
from kluis.text import N_

TOKEN_LIFETIME = timedelta(minutes=10)
ASSERTION_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
OFFICE = "office"  # an office's own software
REGISTRY = "registry"  # the population register's software (death notices)

ACTION_LABELS.update(
    {
        "acts:client:registered": N_("Office software registered as an API client"),
        "acts:client:revoked": N_("Office software's API access revoked"),
        "acts:registry-client:registered": N_(
            "Population register software registered as an API client"
        ),
        "acts:registry-client:revoked": N_("Population register software's API access revoked"),
    }
)
# The history actions' prefix (registered, revoked), per kind of client.
ACTION_PREFIX = {OFFICE: "acts:client", REGISTRY: "acts:registry-client"}

Caller = OfficeSoftware | RegistryClient


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def parse_jwks(value: Any) -> dict[str, Any]:
    """The public keys an office's software signs its assertions with: a JWKS of RSA, EC or
    OKP keys, each with a `kid`, and never a private or symmetric key."""
    invalid = Invalid(
        "The key set must hold public RSA, EC or OKP keys, each with a key id.",
        type="jwks-invalid",
    )
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise invalid
    for key in value["keys"]:
        if (
            not isinstance(key, dict)
            or key.get("kty") not in ASSERTION_KEY_TYPES
            or "d" in key
            or not key.get("kid")
        ):
            raise invalid
    try:
        KeySet.import_key_set(value)
    except (JoseError, ValueError, TypeError) as exc:
        raise invalid from exc
    return {"keys": [dict(key) for key in value["keys"]]}


def _client_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("Give the software a name.", type="client-name-invalid")
    return name


class OfficeClients:
    """API clients registered by an operator: an office's software, used by the office, and
    the population register's software (`register_registry`), which works for no office."""

    async def register(
        self, db: AsyncSession, office: NotaryOffice, *, name: str, jwks: Any, actor: Actor
    ) -> OfficeApiClient:
        """An office's software; the office's history records it."""
        return await self._register(db, office.id, name=name, jwks=jwks, actor=actor)

    async def register_registry(
        self, db: AsyncSession, *, name: str, jwks: Any, actor: Actor
    ) -> OfficeApiClient:
        """The population register's software; the platform's history records it."""
        return await self._register(db, None, name=name, jwks=jwks, actor=actor)

    async def _register(
        self,
        db: AsyncSession,
        office_id: uuid.UUID | None,
        *,
        name: str,
        jwks: Any,
        actor: Actor,
    ) -> OfficeApiClient:
        kind = OFFICE if office_id is not None else REGISTRY
        client = OfficeApiClient(
            kind=kind,
            office_id=office_id,
            # Hex: an id beginning with '-' would read as an option on `kluis notary client`.
            client_id=secrets.token_hex(24),
            name=_client_name(name),
            jwks=parse_jwks(jwks),
        )
        db.add(client)
        await db.flush()
        await self._record(db, client, "registered", actor)
        await db.commit()
        return client

    async def _record(
        self, db: AsyncSession, client: OfficeApiClient, what: str, actor: Actor
    ) -> None:
        """In the office's history, or the platform's for a client of no office."""
        await audit.record(
            db,
            subject_id=client.office_id or PLATFORM_SUBJECT,
            action=f"{ACTION_PREFIX[client.kind]}:{what}",
            actor=actor,
            target=client.name,
            detail={"client_id": client.client_id, "kind": client.kind},
        )

    async def clients(self, db: AsyncSession, office: NotaryOffice) -> Sequence[OfficeApiClient]:
        query = select(OfficeApiClient).where(OfficeApiClient.office_id == office.id)
        return (await db.scalars(query.order_by(OfficeApiClient.created_at))).all()

    async def registry_clients(self, db: AsyncSession) -> Sequence[OfficeApiClient]:
        query = select(OfficeApiClient).where(OfficeApiClient.kind == REGISTRY)
        return (await db.scalars(query.order_by(OfficeApiClient.created_at))).all()

    async def revoke(
        self, db: AsyncSession, client_id: str, *, actor: Actor, kind: str | None = None
    ) -> OfficeApiClient:
        """The client's tokens stop working at once; it gets no new ones. With `kind`, only
        a client of that kind (an office's command does not revoke the register's)."""
        query = select(OfficeApiClient).where(OfficeApiClient.client_id == client_id)
        if kind is not None:
            query = query.where(OfficeApiClient.kind == kind)
        client = await db.scalar(query)
        if client is None:
            raise NotFound("This API client is not registered.", type="client-not-found")
        if client.revoked_at is None:
            client.revoked_at = _now()
            await db.execute(delete(OfficeApiToken).where(OfficeApiToken.client_id == client.id))
            await self._record(db, client, "revoked", actor)
            await db.commit()
        return client

    async def active(self, db: AsyncSession, client_id: str) -> OfficeApiClient | None:
        """A registered client that was not revoked."""
        return await db.scalar(
            select(OfficeApiClient).where(
                OfficeApiClient.client_id == client_id, OfficeApiClient.revoked_at.is_(None)
            )
        )

    async def use_assertion(
        self, db: AsyncSession, client: OfficeApiClient, jti: str, expires: datetime
    ) -> bool:
        """Whether this assertion id is new for the client; from now on it is used."""
        if len(jti) > 200:
            return False
        await db.execute(delete(OfficeApiAssertion).where(OfficeApiAssertion.expires_at < _now()))
        try:
            async with db.begin_nested():
                db.add(OfficeApiAssertion(client_id=client.id, jti=jti, expires_at=expires))
        except IntegrityError:
            return False
        return True

    async def issue(self, db: AsyncSession, client: OfficeApiClient, token: str) -> None:
        """Keep a token just issued to the client (with the used assertion, in one commit)."""
        await db.execute(delete(OfficeApiToken).where(OfficeApiToken.expires_at < _now()))
        db.add(
            OfficeApiToken(
                client_id=client.id,
                token_hash=token_hash(token),
                expires_at=_now() + TOKEN_LIFETIME,
            )
        )
        await db.commit()

    async def caller(self, db: AsyncSession, token: str) -> Caller | None:
        """Who a bearer token stands for, if it is valid: an office's software, or the
        population register's."""
        row = (
            await db.execute(
                select(OfficeApiClient, NotaryOffice.name)
                .join(OfficeApiToken, OfficeApiToken.client_id == OfficeApiClient.id)
                .outerjoin(NotaryOffice, NotaryOffice.id == OfficeApiClient.office_id)
                .where(
                    OfficeApiToken.token_hash == token_hash(token),
                    OfficeApiToken.expires_at > _now(),
                    OfficeApiClient.revoked_at.is_(None),
                )
            )
        ).first()
        if row is None:
            return None
        client, office_name = row
        if client.kind == REGISTRY:
            return RegistryClient(id=client.id, client_name=client.name)
        if client.kind != OFFICE or client.office_id is None or office_name is None:
            return None  # never taken for an office's software unless it is one
        return OfficeSoftware(
            id=client.id,
            office_id=client.office_id,
            office_name=office_name,
            client_name=client.name,
        )


def new_token() -> str:
    return secrets.token_urlsafe(32)
