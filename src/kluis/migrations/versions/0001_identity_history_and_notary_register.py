"""identity, history and notary register

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 06:30:33.874128
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_heads",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_heads")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_history_heads_subject_id")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=200), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_login_attempts_state_hash")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_attempts_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "notary_offices",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enterprise_number", sa.String(length=10), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notary_offices")),
        sa.UniqueConstraint("enterprise_number", name=op.f("uq_notary_offices_enterprise_number")),
    )
    op.create_table(
        "people",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("nrn_index", sa.String(length=64), nullable=False),
        sa.Column("nrn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("surname", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("notifications", sa.JSON(), nullable=False),
        sa.Column("last_login_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("nrn_index", name=op.f("uq_people_nrn_index")),
    )
    op.create_table(
        "relying_party_keys",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("use", sa.String(length=3), nullable=False),
        sa.Column("alg", sa.String(length=20), nullable=False),
        sa.Column("private_jwk_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relying_party_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_relying_party_keys_kid")),
    )
    op.create_table(
        "seen_logout_tokens",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seen_logout_tokens")),
        sa.UniqueConstraint("provider", "jti", name=op.f("uq_seen_logout_tokens_provider")),
    )
    with op.batch_alter_table("seen_logout_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seen_logout_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "history_events",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("subject_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["history_heads.subject_id"],
            name=op.f("fk_history_events_subject_id_history_heads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_events")),
        sa.UniqueConstraint("subject_id", "seq", name=op.f("uq_history_events_subject_id")),
    )
    with op.batch_alter_table("history_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_history_events_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_history_events_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "office_members",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("nrn_index", sa.String(length=64), nullable=False),
        sa.Column("nrn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_office_members_office_id_notary_offices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_members")),
        sa.UniqueConstraint("office_id", "nrn_index", name=op.f("uq_office_members_office_id")),
    )
    with op.batch_alter_table("office_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_members_nrn_index"), ["nrn_index"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_office_members_office_id"), ["office_id"], unique=False
        )

    op.create_table(
        "provider_links",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("person_id", GUID(length=16), nullable=False),
        sa.Column("last_seen_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_provider_links_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_links")),
        sa.UniqueConstraint("provider", "subject", name=op.f("uq_provider_links_provider")),
    )
    with op.batch_alter_table("provider_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_links_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "web_sessions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", GUID(length=16), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_subject", sa.String(length=255), nullable=False),
        sa.Column("provider_sid", sa.String(length=255), nullable=True),
        sa.Column("loa", sa.String(length=20), nullable=False),
        sa.Column("id_token_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ended_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_web_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_web_sessions_provider_sid"), ["provider_sid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_provider_sid"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_person_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("provider_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_links_person_id"))

    op.drop_table("provider_links")
    with op.batch_alter_table("office_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_members_office_id"))
        batch_op.drop_index(batch_op.f("ix_office_members_nrn_index"))

    op.drop_table("office_members")
    with op.batch_alter_table("history_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_events_subject_id"))
        batch_op.drop_index(batch_op.f("ix_history_events_action"))

    op.drop_table("history_events")
    with op.batch_alter_table("seen_logout_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_logout_tokens_expires_at"))

    op.drop_table("seen_logout_tokens")
    op.drop_table("relying_party_keys")
    op.drop_table("people")
    op.drop_table("notary_offices")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempts_expires_at"))

    op.drop_table("login_attempts")
    op.drop_table("history_heads")
