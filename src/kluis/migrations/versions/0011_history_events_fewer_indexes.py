"""History entries: two indexes fewer.

Every entry is written once and read only within its subject's history, so the unique
index on (subject_id, seq) serves every read: `ix_history_events_subject_id` repeats its
first column, and no query looks entries up by action across subjects
(`ix_history_events_action`). Both were upkeep on every write, the busiest table's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("history_events") as batch:
        batch.drop_index("ix_history_events_subject_id")
        batch.drop_index("ix_history_events_action")


def downgrade() -> None:
    with op.batch_alter_table("history_events") as batch:
        batch.create_index("ix_history_events_action", ["action"], unique=False)
        batch.create_index("ix_history_events_subject_id", ["subject_id"], unique=False)
