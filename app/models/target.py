"""Receptors and other molecular targets."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field

from app.models.common import RecordBase, SummariesMixin, json_field


class Target(RecordBase, SummariesMixin, table=True):
    name: str
    gene_symbol: str | None = Field(default=None, max_length=20, index=True)
    uniprot: str | None = Field(default=None, max_length=20)
    family: str = Field(max_length=40, index=True)
    synonyms: list[str] = json_field()
    identifiers: list[dict[str, Any]] = json_field(description="[{system, value, verification}]")
