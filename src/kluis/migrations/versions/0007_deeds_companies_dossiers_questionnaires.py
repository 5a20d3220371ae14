"""deeds, companies, dossiers, messages, questionnaires; offices get an address and e-mail

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:05:59.848681
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("enterprise_number", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("enterprise_number", name=op.f("uq_companies_enterprise_number")),
    )
    op.create_table(
        "company_members",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("company_id", GUID(length=16), nullable=False),
        sa.Column("nrn_index", sa.String(length=64), nullable=False),
        sa.Column("nrn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('main', 'staff')", name=op.f("ck_company_members_role")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_members_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_members")),
        sa.UniqueConstraint("company_id", "nrn_index", name=op.f("uq_company_members_company_id")),
    )
    with op.batch_alter_table("company_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_members_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_company_members_nrn_index"), ["nrn_index"], unique=False
        )

    op.create_table(
        "dossiers",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("company_id", GUID(length=16), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'waiting_for_client', 'closed')",
            name=op.f("ck_dossiers_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_dossiers_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_dossiers_office_id_notary_offices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("office_id", "reference", name=op.f("uq_dossiers_office_id")),
    )
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossiers_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossiers_office_id"), ["office_id"], unique=False)

    op.create_table(
        "deeds",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("office_id", GUID(length=16), nullable=False),
        sa.Column("registry_number", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("deed_date", sa.Date(), nullable=False),
        sa.Column("enterprise_number", sa.String(length=10), nullable=True),
        sa.Column("document_id", GUID(length=16), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_deeds_document_id_documents"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["notary_offices.id"],
            name=op.f("fk_deeds_office_id_notary_offices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deeds")),
        sa.UniqueConstraint("document_id", name=op.f("uq_deeds_document_id")),
        sa.UniqueConstraint("office_id", "registry_number", name=op.f("uq_deeds_office_id")),
    )
    with op.batch_alter_table("deeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deeds_deed_date"), ["deed_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_deeds_office_id"), ["office_id"], unique=False)

    op.create_table(
        "dossier_clients",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("dossier_id", GUID(length=16), nullable=False),
        sa.Column("nrn_index", sa.String(length=64), nullable=False),
        sa.Column("nrn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_clients_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_clients")),
        sa.UniqueConstraint("dossier_id", "nrn_index", name=op.f("uq_dossier_clients_dossier_id")),
    )
    with op.batch_alter_table("dossier_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_clients_dossier_id"), ["dossier_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossier_clients_nrn_index"), ["nrn_index"], unique=False
        )

    op.create_table(
        "dossier_documents",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("dossier_id", GUID(length=16), nullable=False),
        sa.Column("document_id", GUID(length=16), nullable=False),
        sa.Column("tab", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("author_id", GUID(length=16), nullable=True),
        sa.Column("author_label", sa.String(length=200), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('office', 'client')", name=op.f("ck_dossier_documents_side")),
        sa.CheckConstraint(
            "tab IN ('correspondence', 'documents', 'delivered')",
            name=op.f("ck_dossier_documents_tab"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_dossier_documents_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_documents_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_documents")),
        sa.UniqueConstraint("document_id", name=op.f("uq_dossier_documents_document_id")),
    )
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_documents_dossier_id"), ["dossier_id"], unique=False
        )

    op.create_table(
        "dossier_messages",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("dossier_id", GUID(length=16), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("author_id", GUID(length=16), nullable=True),
        sa.Column("author_label", sa.String(length=200), nullable=False),
        sa.Column("subject_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("reply_to_id", GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('office', 'client')", name=op.f("ck_dossier_messages_side")),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_messages_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["dossier_messages.id"],
            name=op.f("fk_dossier_messages_reply_to_id_dossier_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_messages")),
    )
    with op.batch_alter_table("dossier_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_messages_dossier_id"), ["dossier_id"], unique=False
        )

    op.create_table(
        "dossier_reads",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("dossier_id", GUID(length=16), nullable=False),
        sa.Column("reader_id", GUID(length=16), nullable=False),
        sa.Column("tab", sa.String(length=20), nullable=False),
        sa.Column("read_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_reads_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_reads")),
        sa.UniqueConstraint(
            "dossier_id", "reader_id", "tab", name=op.f("uq_dossier_reads_dossier_id")
        ),
    )
    with op.batch_alter_table("dossier_reads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_reads_dossier_id"), ["dossier_id"], unique=False
        )

    op.create_table(
        "questionnaires",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("dossier_id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("recipient_nrn_index", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("answers_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("sent_by", sa.String(length=200), nullable=False),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("result_document_id", GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'in_progress', 'finished')", name=op.f("ck_questionnaires_status")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_questionnaires_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_document_id"],
            ["documents.id"],
            name=op.f("fk_questionnaires_result_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaires")),
    )
    with op.batch_alter_table("questionnaires", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaires_dossier_id"), ["dossier_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_questionnaires_recipient_nrn_index"),
            ["recipient_nrn_index"],
            unique=False,
        )

    op.create_table(
        "deed_parties",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("deed_id", GUID(length=16), nullable=False),
        sa.Column("nrn_index", sa.String(length=64), nullable=False),
        sa.Column("nrn_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deed_id"],
            ["deeds.id"],
            name=op.f("fk_deed_parties_deed_id_deeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deed_parties")),
        sa.UniqueConstraint("deed_id", "nrn_index", name=op.f("uq_deed_parties_deed_id")),
    )
    with op.batch_alter_table("deed_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deed_parties_deed_id"), ["deed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deed_parties_nrn_index"), ["nrn_index"], unique=False)

    op.create_table(
        "message_attachments",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("message_id", GUID(length=16), nullable=False),
        sa.Column("document_id", GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_message_attachments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["dossier_messages.id"],
            name=op.f("fk_message_attachments_message_id_dossier_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
        sa.UniqueConstraint("document_id", name=op.f("uq_message_attachments_document_id")),
    )
    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_attachments_message_id"), ["message_id"], unique=False
        )

    with op.batch_alter_table("notary_offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notary_offices", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("address")

    with op.batch_alter_table("message_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_attachments_message_id"))

    op.drop_table("message_attachments")
    with op.batch_alter_table("deed_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deed_parties_nrn_index"))
        batch_op.drop_index(batch_op.f("ix_deed_parties_deed_id"))

    op.drop_table("deed_parties")
    with op.batch_alter_table("questionnaires", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaires_recipient_nrn_index"))
        batch_op.drop_index(batch_op.f("ix_questionnaires_dossier_id"))

    op.drop_table("questionnaires")
    with op.batch_alter_table("dossier_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_reads_dossier_id"))

    op.drop_table("dossier_reads")
    with op.batch_alter_table("dossier_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_messages_dossier_id"))

    op.drop_table("dossier_messages")
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_documents_dossier_id"))

    op.drop_table("dossier_documents")
    with op.batch_alter_table("dossier_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_clients_nrn_index"))
        batch_op.drop_index(batch_op.f("ix_dossier_clients_dossier_id"))

    op.drop_table("dossier_clients")
    with op.batch_alter_table("deeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deeds_office_id"))
        batch_op.drop_index(batch_op.f("ix_deeds_deed_date"))

    op.drop_table("deeds")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossiers_office_id"))
        batch_op.drop_index(batch_op.f("ix_dossiers_company_id"))

    op.drop_table("dossiers")
    with op.batch_alter_table("company_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_members_nrn_index"))
        batch_op.drop_index(batch_op.f("ix_company_members_company_id"))

    op.drop_table("company_members")
    op.drop_table("companies")
