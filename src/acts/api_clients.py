"""The offices' own software as API clients: registering a client (its public keys), issuing
access tokens to it, and recognising a token on a request.

Access tokens are opaque random strings, kept only as their SHA-256 and valid for ten
minutes. Not signed JWTs: every request then asks the database anyway (for the office's
name and the client's state), so revoking a client ends its tokens at once, a stolen copy
of the table is of no use, and the platform needs no token-signing key to rotate.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acts.access import OfficeSoftware
from acts.models import NotaryOffice, OfficeApiAssertion, OfficeApiClient, OfficeApiToken
from kluis import audit
from kluis.audit import ACTION_LABELS, Actor
from kluis.errors import Invalid, NotFound
from kluis.text import N_

TOKEN_LIFETIME = timedelta(minutes=10)
ASSERTION_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})

ACTION_LABELS.update(
    {
        "acts:client:registered": N_("Office software registered as an API client"),
        "acts:client:revoked": N_("Office software's API access revoked"),
    }
)


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


class OfficeClients:
    """API clients of notary offices: registered by an operator, used by the office."""

    async def register(
        self, db: AsyncSession, office: NotaryOffice, *, name: str, jwks: Any, actor: Actor
    ) -> OfficeApiClient:
        name = name.strip()
        if not name or len(name) > 200:
            raise Invalid("Give the software a name.", type="client-name-invalid")
        client = OfficeApiClient(
            office_id=office.id,
            client_id=secrets.token_urlsafe(24),
            name=name,
            jwks=parse_jwks(jwks),
        )
        db.add(client)
        await db.flush()
        await audit.record(
            db,
            subject_id=office.id,
            action="acts:client:registered",
            actor=actor,
            target=client.name,
            detail={"client_id": client.client_id},
        )
        await db.commit()
        return client

    async def clients(self, db: AsyncSession, office: NotaryOffice) -> Sequence[OfficeApiClient]:
        query = select(OfficeApiClient).where(OfficeApiClient.office_id == office.id)
        return (await db.scalars(query.order_by(OfficeApiClient.created_at))).all()

    async def revoke(self, db: AsyncSession, client_id: str, *, actor: Actor) -> OfficeApiClient:
        """The client's tokens stop working at once; it gets no new ones."""
        client = await db.scalar(
            select(OfficeApiClient).where(OfficeApiClient.client_id == client_id)
        )
        if client is None:
            raise NotFound("This API client is not registered.", type="client-not-found")
        if client.revoked_at is None:
            client.revoked_at = _now()
            await db.execute(delete(OfficeApiToken).where(OfficeApiToken.client_id == client.id))
            await audit.record(
                db,
                subject_id=client.office_id,
                action="acts:client:revoked",
                actor=actor,
                target=client.name,
                detail={"client_id": client.client_id},
            )
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

    async def software(self, db: AsyncSession, token: str) -> OfficeSoftware | None:
        """The office software a bearer token stands for, if it is valid."""
        row = (
            await db.execute(
                select(OfficeApiClient, NotaryOffice.name)
                .join(OfficeApiToken, OfficeApiToken.client_id == OfficeApiClient.id)
                .join(NotaryOffice, NotaryOffice.id == OfficeApiClient.office_id)
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
        return OfficeSoftware(
            id=client.id,
            office_id=client.office_id,
            office_name=office_name,
            client_name=client.name,
        )


def new_token() -> str:
    return secrets.token_urlsafe(32)
