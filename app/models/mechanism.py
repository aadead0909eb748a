"""What the drug does at a target, in a dose context, and who says so."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from app.models.common import RecordBase, SummariesMixin


class Mechanism(RecordBase, SummariesMixin, table=True):
    drug_id: int = Field(foreign_key="drug.id", index=True, ondelete="CASCADE")
    target_id: int = Field(foreign_key="target.id", index=True, ondelete="CASCADE")
    regimen_id: int | None = Field(default=None, foreign_key="regimen.id", index=True, ondelete="SET NULL")
    name: str
    dose_context: str = Field(max_length=40, description="low-dose | standard | any")
    action: str
    effect: str
    dose_dependence: str | None = None
    evidence_level: str = Field(max_length=40, index=True)
    attribution: str = Field(max_length=30, description="reference-checked | article-claim")


class MechanismSource(SQLModel, table=True):
    __tablename__ = "mechanism_source"

    id: int | None = Field(default=None, primary_key=True)

    mechanism_id: int = Field(foreign_key="mechanism.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="RESTRICT")
    quote: str | None = None
    ordinal: int = 0
