"""Tables of the identity domain.

A person is keyed by the national registry number, stored sealed by the key provider and
found through a keyed blind index; the provider `sub` only links to a person.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from advanced_alchemy.base import UUIDAuditBase, UUIDBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column


class Person(UUIDAuditBase):
    __tablename__ = "people"

    nrn_index: Mapped[str] = mapped_column(String(64), unique=True)
    nrn_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    given_name: Mapped[str] = mapped_column(String(200))
    surname: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    notifications: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    # The reference notary office, from the notary register (a layer above: no foreign key).
    preferred_office_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # What happens to the vault after death (succession.domain: 1, 2 or 3), and the date
    # of death while a death notice about the person is in force (the vault is frozen).
    succession_option: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    deceased_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.surname}"


class ProviderLink(UUIDAuditBase):
    """(provider, subject) -> person. A person may have several; a subject may change."""

    __tablename__ = "provider_links"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class WebSession(UUIDBase):
    """A server-side session. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    provider_subject: Mapped[str] = mapped_column(String(255))
    provider_sid: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    loa: Mapped[str] = mapped_column(String(20))
    # The provider's ID token, sealed (it may carry the NRN), for RP-initiated logout.
    id_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginAttempt(UUIDBase):
    """One login in flight: state, nonce and PKCE verifier, bound to one browser.

    Deleted when the callback arrives, so each is usable once.
    """

    __tablename__ = "login_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200))
    next_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class RelyingPartyKey(UUIDBase):
    """The platform's own keys towards identity providers (`sig` and `enc`)."""

    __tablename__ = "relying_party_keys"

    kid: Mapped[str] = mapped_column(String(64), unique=True)
    use: Mapped[str] = mapped_column(String(3))
    alg: Mapped[str] = mapped_column(String(20))
    private_jwk_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class SeenLogoutToken(UUIDBase):
    """`jti`s of back-channel logout tokens already used, so none is accepted twice."""

    __tablename__ = "seen_logout_tokens"
    __table_args__ = (UniqueConstraint("provider", "jti"),)

    provider: Mapped[str] = mapped_column(String(40))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class Notification(UUIDAuditBase):
    """An in-app notification: a message id and its parameters, translated when shown, so
    it reads in whatever language the person uses by then."""

    __tablename__ = "notifications"

    person_id: Mapped[uuid.UUID] = mapped_column(
        GUID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


__all__ = [
    "LoginAttempt",
    "Notification",
    "Person",
    "ProviderLink",
    "RelyingPartyKey",
    "SeenLogoutToken",
    "WebSession",
]
