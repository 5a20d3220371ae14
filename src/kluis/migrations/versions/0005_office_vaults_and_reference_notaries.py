"""office vaults (seal keys, exchanges, documents held by an office) and reference notaries

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:28:34.056162
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "office_seal_keys",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_jwk_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_office_seal_keys_office_id_notary_offices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_seal_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_office_seal_keys_kid")),
    )
    with op.batch_alter_table("office_seal_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_seal_keys_office_id"), ["office_id"], unique=False
        )

    op.create_table(
        "office_exchanges",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("person_id", GUID(length=16), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("document_id", GUID(length=16), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("accepted_document_id", GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction IN ('to_office', 'to_citizen')", name=op.f("ck_office_exchanges_direction")
        ),
        sa.CheckConstraint(
            "status IN ('delivered', 'pending', 'accepted', 'refused')",
            name=op.f("ck_office_exchanges_status"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_document_id"],
            ["documents.id"],
            name=op.f("fk_office_exchanges_accepted_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_office_exchanges_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_office_exchanges_office_id_notary_offices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_office_exchanges_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_exchanges")),
    )
    with op.batch_alter_table("office_exchanges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_exchanges_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_office_exchanges_office_id"), ["office_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_office_exchanges_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", GUID(length=16), nullable=True))
        batch_op.add_column(sa.Column("seal", sa.Text(), nullable=True))
        batch_op.alter_column("owner_id", existing_type=GUID(length=16), nullable=True)
        batch_op.create_index(batch_op.f("ix_documents_office_id"), ["office_id"], unique=False)
        batch_op.create_check_constraint(
            op.f("ck_documents_one_holder"), "(owner_id IS NULL) <> (office_id IS NULL)"
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_office_id", GUID(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("preferred_office_id")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_documents_one_holder"), type_="check")
        batch_op.drop_index(batch_op.f("ix_documents_office_id"))
        batch_op.alter_column("owner_id", existing_type=GUID(length=16), nullable=False)
        batch_op.drop_column("seal")
        batch_op.drop_column("office_id")

    with op.batch_alter_table("office_exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_exchanges_person_id"))
        batch_op.drop_index(batch_op.f("ix_office_exchanges_office_id"))
        batch_op.drop_index(batch_op.f("ix_office_exchanges_document_id"))

    op.drop_table("office_exchanges")
    with op.batch_alter_table("office_seal_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_seal_keys_office_id"))

    op.drop_table("office_seal_keys")
