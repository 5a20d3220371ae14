"""An office's own software as an OAuth 2 client: its registration (public keys only), the
access tokens issued to it, and the client assertions it already used."""

from __future__ import annotations

import uuid
from datetime import datetime

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class OfficeApiClient(UUIDAuditBase):
    """Registered by an operator for one office (`kind` "office"), or for the population
    register pushing death notices (`kind` "registry", no office). The client keeps the
    private key; the platform holds the public JWKS its client assertions are checked with."""

    __tablename__ = "office_api_clients"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'office' AND office_id IS NOT NULL)"
            " OR (kind = 'registry' AND office_id IS NULL)",
            name="kind_office",
        ),
    )

    kind: Mapped[str] = mapped_column(String(10), default="office", server_default="office")
    office_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("notary_offices.id", ondelete="CASCADE"), index=True, nullable=True
    )
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    jwks: Mapped[dict[str, list[dict[str, str]]]] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class OfficeApiToken(UUIDAuditBase):
    """An access token, kept only as its SHA-256: whoever reads the table cannot use it."""

    __tablename__ = "office_api_tokens"

    client_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("office_api_clients.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class OfficeApiAssertion(UUIDAuditBase):
    """A client assertion's `jti`, kept until the assertion expires: never accepted twice."""

    __tablename__ = "office_api_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    client_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("office_api_clients.id", ondelete="CASCADE"), index=True
    )
    jti: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
