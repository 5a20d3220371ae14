"""vault contacts and shares; where a document came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:21:18.377868
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_invitations",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("inviter_id", GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answered_by_id", GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["people.id"],
            name=op.f("fk_contact_invitations_answered_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inviter_id"],
            ["people.id"],
            name=op.f("fk_contact_invitations_inviter_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_invitations")),
    )
    with op.batch_alter_table("contact_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_invitations_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contact_invitations_inviter_id"), ["inviter_id"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("person_id", GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["people.id"],
            name=op.f("fk_contacts_owner_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_contacts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("owner_id", "person_id", name=op.f("uq_contacts_owner_id")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_person_id"), ["person_id"], unique=False)

    op.create_table(
        "shares",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("document_id", GUID(length=16), nullable=False),
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("recipient_id", GUID(length=16), nullable=False),
        sa.Column("takes_effect", sa.String(length=10), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "takes_effect IN ('now', 'at_death')", name=op.f("ck_shares_takes_effect")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_shares_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_shares_owner_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["people.id"],
            name=op.f("fk_shares_recipient_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("document_id", "recipient_id", name=op.f("uq_shares_document_id")),
    )
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shares_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shares_recipient_id"), ["recipient_id"], unique=False)

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=10), server_default="upload", nullable=False)
        )
        batch_op.add_column(sa.Column("origin_label", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("origin_label")
        batch_op.drop_column("origin")

    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shares_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_shares_owner_id"))

    op.drop_table("shares")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_person_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("contact_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_invitations_inviter_id"))
        batch_op.drop_index(batch_op.f("ix_contact_invitations_email"))

    op.drop_table("contact_invitations")
