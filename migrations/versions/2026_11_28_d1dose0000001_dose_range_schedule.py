"""dose_range.schedule: the weekly schedule a source states when its amounts differ by day

A range documents only the dosing pattern its source states. The label's supervised alternative "50 mg
weekdays + 100 mg Saturday" was recorded as its weekly total (350 mg a week) alone, so 350 mg once a week
read as documented; the schedule itself is now kept beside the total.

Revision ID: d1dose0000001
Revises: r1changes0001
Create Date: 2026-11-28 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d1dose0000001"
down_revision: str | None = "r1changes0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dose_range", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dose_range", schema=None) as batch_op:
        batch_op.drop_column("schedule")
