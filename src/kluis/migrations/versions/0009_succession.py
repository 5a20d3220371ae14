"""Succession: death notices and their timers, estates and heirs, document tombstones;
each person's after-death option and date of death; registry API clients.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "death_notices",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("person_id", GUID(length=16), nullable=False),
        sa.Column("date_of_death", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("safeguard_until", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("erase_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ended_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=300), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('awaiting-notary', 'estate-opened', 'transferred', 'notified', 'shares-released', 'destroyed', 'erased', 'withdrawn', 'voided')",
            name=op.f("ck_death_notices_status"),
        ),
        sa.CheckConstraint("option IN (1, 2, 3)", name=op.f("ck_death_notices_option")),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_death_notices_office_id_notary_offices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_death_notices_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_death_notices")),
    )
    with op.batch_alter_table("death_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_death_notices_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_death_notices_person_in_force",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("status NOT IN ('withdrawn', 'voided')"),
            postgresql_where=sa.text("status NOT IN ('withdrawn', 'voided')"),
        )

    op.create_table(
        "document_tombstones",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("document_id", GUID(length=16), nullable=False),
        sa.Column("owner_id", GUID(length=16), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["people.id"],
            name=op.f("fk_document_tombstones_owner_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_tombstones")),
        sa.UniqueConstraint("document_id", name=op.f("uq_document_tombstones_document_id")),
    )
    with op.batch_alter_table("document_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_tombstones_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "estates",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("notice_id", GUID(length=16), nullable=False),
        sa.Column("person_id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("transferred_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["death_notices.id"],
            name=op.f("fk_estates_notice_id_death_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_estates_office_id_notary_offices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_estates_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estates")),
        sa.UniqueConstraint("notice_id", name=op.f("uq_estates_notice_id")),
    )
    with op.batch_alter_table("estates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_estates_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_estates_person_id"), ["person_id"], unique=False)

    op.create_table(
        "succession_timers",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("notice_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("done_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("label", sa.String(length=10), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('safeguard', 'reminder', 'erase')", name=op.f("ck_succession_timers_kind")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["death_notices.id"],
            name=op.f("fk_succession_timers_notice_id_death_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_succession_timers")),
    )
    with op.batch_alter_table("succession_timers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_succession_timers_notice_id"), ["notice_id"], unique=False
        )
        batch_op.create_index("ix_succession_timers_pending", ["done_at", "due_at"], unique=False)

    op.create_table(
        "heirs",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("estate_id", GUID(length=16), nullable=False),
        sa.Column("nrn_index", sa.String(length=64), nullable=False),
        sa.Column("nrn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"],
            ["estates.id"],
            name=op.f("fk_heirs_estate_id_estates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heirs")),
        sa.UniqueConstraint("estate_id", "nrn_index", name=op.f("uq_heirs_estate_id")),
    )
    with op.batch_alter_table("heirs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_heirs_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_heirs_nrn_index"), ["nrn_index"], unique=False)

    with op.batch_alter_table("office_api_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="office", nullable=False)
        )
        batch_op.alter_column("office_id", existing_type=GUID(length=16), nullable=True)
        batch_op.create_check_constraint(
            "kind_office",
            "(kind = 'office' AND office_id IS NOT NULL)"
            " OR (kind = 'registry' AND office_id IS NULL)",
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("succession_option", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("deceased_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("deceased_on")
        batch_op.drop_column("succession_option")

    op.execute("DELETE FROM office_api_clients WHERE kind = 'registry'")
    with op.batch_alter_table("office_api_clients", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_office_api_clients_kind_office"), type_="check")
        batch_op.alter_column("office_id", existing_type=GUID(length=16), nullable=False)
        batch_op.drop_column("kind")

    with op.batch_alter_table("heirs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_heirs_nrn_index"))
        batch_op.drop_index(batch_op.f("ix_heirs_estate_id"))

    op.drop_table("heirs")
    with op.batch_alter_table("succession_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_succession_timers_pending")
        batch_op.drop_index(batch_op.f("ix_succession_timers_notice_id"))

    op.drop_table("succession_timers")
    with op.batch_alter_table("estates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estates_person_id"))
        batch_op.drop_index(batch_op.f("ix_estates_office_id"))

    op.drop_table("estates")
    with op.batch_alter_table("document_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_tombstones_owner_id"))

    op.drop_table("document_tombstones")
    with op.batch_alter_table("death_notices", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_death_notices_person_in_force",
            sqlite_where=sa.text("status NOT IN ('withdrawn', 'voided')"),
            postgresql_where=sa.text("status NOT IN ('withdrawn', 'voided')"),
        )
        batch_op.drop_index(batch_op.f("ix_death_notices_person_id"))

    op.drop_table("death_notices")
