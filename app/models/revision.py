"""Revision history of curated records and the dataset's version marker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlmodel import Field, SQLModel

from app.models.common import utcnow


class Revision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    record_kind: str = Field(max_length=40, index=True)
    slug: str = Field(max_length=120, index=True)
    version: int
    change: str = Field(max_length=20, description="create | update | delete")
    changed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class DatasetState(SQLModel, table=True):
    """A single row: the content version every cached representation is keyed on."""

    __tablename__ = "dataset_state"

    id: int = Field(default=1, primary_key=True)
    content_version: int = 0
    content_hash: str = Field(default="", max_length=64)
    last_updated: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


class RecordChange(SQLModel, table=True):
    """One line of the changes feed: a record created, updated or deleted by the load of a content version.

    ``etag`` is the strong ETag of the record as /v1 serves it (``data`` of its detail answer, the line of
    the bulk export), written when the load computes every representation; a record whose representation
    moved because a record it embeds changed is logged too. Deletes carry no ETag.
    """

    __tablename__ = "record_change"

    id: int | None = Field(default=None, primary_key=True)
    content_version: int = Field(index=True)
    kind: str = Field(max_length=40, index=True)
    slug: str = Field(max_length=120)
    change: str = Field(max_length=20, description="create | update | delete")
    etag: str | None = Field(default=None, max_length=80)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)
