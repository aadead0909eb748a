"""The drug aggregate: the drug, its identifiers and its regulatory history."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field

from app.models.common import RecordBase, SummariesMixin, json_field


class Drug(RecordBase, SummariesMixin, table=True):
    name: str
    synonyms: list[str] = json_field()
    identifiers: list[dict[str, Any]] = json_field(description="[{system, value, verification, note}]")
    salts: list[dict[str, Any]] = json_field(description="[{name, identifiers}]")
    contraindications: list[dict[str, Any]] = json_field(description="[{text, source, verification, note}]")


class Approval(RecordBase, table=True):
    """One event of the drug's regulatory history (FDA approvals, label changes)."""

    drug_id: int = Field(foreign_key="drug.id", index=True, ondelete="CASCADE")
    regimen_id: int | None = Field(default=None, foreign_key="regimen.id", index=True, ondelete="SET NULL")
    source_id: int | None = Field(default=None, foreign_key="source.id", ondelete="SET NULL")
    date: str = Field(max_length=40, description="ISO date or year as the source states it.")
    date_note: str | None = None
    event: str
    product: str | None = None
    application: str | None = None
    verification: str = Field(max_length=20)
    ordinal: int = 0
