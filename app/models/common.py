"""Fields every curated record carries, and the metadata's constraint naming convention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_field(default_list: bool = True, description: str = "") -> Any:
    """A JSON column holding a list (or an object when ``default_list`` is False)."""
    return Field(
        default_factory=list if default_list else dict,
        sa_type=JSON,
        nullable=False,
        description=description,
    )


class RecordBase(SQLModel):
    """Identity and bookkeeping shared by every curated record."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True, description="Stable identifier.")
    version: int = Field(default=1, description="Increments on every change of the record.")
    content_hash: str = Field(default="", max_length=64, description="Hash of the curated fields.")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


class SummariesMixin(SQLModel):
    """The two audiences' texts: clinicians and patients."""

    clinical_summary: str = Field(default="", description="For clinicians, written from the sources.")
    plain_summary: str = Field(default="", description="Plain language for patient pages.")
