"""record change feed

The changes feed (``GET /v1/changes``): one row per record created, updated or deleted by a content load,
with the record's new strong ETag. Rows for every record already loaded are written by the next load.

Revision ID: r1changes0001
Revises: c2cds0000002
Create Date: 2026-11-28 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "r1changes0001"
down_revision: str | None = "c2cds0000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("change", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_change")),
    )
    op.create_index(op.f("ix_record_change_content_version"), "record_change", ["content_version"])
    op.create_index(op.f("ix_record_change_kind"), "record_change", ["kind"])


def downgrade() -> None:
    op.drop_index(op.f("ix_record_change_kind"), table_name="record_change")
    op.drop_index(op.f("ix_record_change_content_version"), table_name="record_change")
    op.drop_table("record_change")
