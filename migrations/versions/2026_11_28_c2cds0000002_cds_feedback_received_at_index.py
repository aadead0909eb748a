"""cds feedback: index on received_at, for the retention sweep

Feedback older than LDNKB_CDS_FEEDBACK_RETENTION_DAYS is deleted whenever feedback is stored; the index
keeps that delete a range scan instead of a table scan.

Revision ID: c2cds0000002
Revises: s1search00001
Create Date: 2026-11-28 07:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c2cds0000002"
down_revision: str | None = "s1search00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cds_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cds_feedback_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cds_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cds_feedback_received_at"))
