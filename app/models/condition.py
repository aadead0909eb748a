"""Conditions and their codes (ICD-10-CM, SNOMED CT)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from app.models.common import RecordBase, SummariesMixin, json_field


class Condition(RecordBase, SummariesMixin, table=True):
    name: str
    category: str = Field(max_length=40, index=True)
    synonyms: list[str] = json_field()


class ConditionCode(SQLModel, table=True):
    __tablename__ = "condition_code"

    id: int | None = Field(default=None, primary_key=True)

    condition_id: int = Field(foreign_key="condition.id", index=True, ondelete="CASCADE")
    system: str = Field(max_length=20, index=True, description="icd-10-cm | snomed-ct")
    code: str = Field(max_length=30, index=True)
    display: str | None = None
    code_kind: str | None = Field(default=None, max_length=20, description="header | billable | concept")
    version_note: str | None = None
    verification: str = Field(max_length=20)
    ordinal: int = 0
