"""Citable sources: labels, regulatory records, trials, reviews, the seed article."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field

from app.models.common import RecordBase, json_field


class Source(RecordBase, table=True):
    kind: str = Field(max_length=40, index=True)
    title: str
    authors: str | None = None
    journal: str | None = None
    year: int | None = None
    citation: str | None = Field(default=None, description="Volume, issue and pages as cited.")
    url: str | None = None
    identifiers: list[dict[str, Any]] = json_field(description="[{system, value, verification}]")
    verification: str = Field(max_length=20, description="primary | secondary | article-claim")
    note: str | None = None
