"""office API clients: the offices' own software, its access tokens and used assertions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audit_columns() -> list[sa.Column]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "office_api_clients",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        *_audit_columns(),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_office_api_clients_office_id_notary_offices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_office_api_clients_client_id")),
    )
    with op.batch_alter_table("office_api_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_api_clients_office_id"), ["office_id"], unique=False
        )

    op.create_table(
        "office_api_tokens",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("client_id", GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        *_audit_columns(),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["office_api_clients.id"],
            name=op.f("fk_office_api_tokens_client_id_office_api_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_office_api_tokens_token_hash")),
    )
    with op.batch_alter_table("office_api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_api_tokens_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_office_api_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "office_api_assertions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("client_id", GUID(length=16), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        *_audit_columns(),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["office_api_clients.id"],
            name=op.f("fk_office_api_assertions_client_id_office_api_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_api_assertions")),
        sa.UniqueConstraint("client_id", "jti", name=op.f("uq_office_api_assertions_client_id")),
    )
    with op.batch_alter_table("office_api_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_api_assertions_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_office_api_assertions_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    for table, columns in (
        ("office_api_assertions", ("client_id", "expires_at")),
        ("office_api_tokens", ("client_id", "expires_at")),
        ("office_api_clients", ("office_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
