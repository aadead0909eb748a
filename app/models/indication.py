"""Indications (drug x condition x regimen), their studies and sources."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from app.models.common import RecordBase, SummariesMixin


class Indication(RecordBase, SummariesMixin, table=True):
    drug_id: int = Field(foreign_key="drug.id", index=True, ondelete="CASCADE")
    condition_id: int = Field(foreign_key="condition.id", index=True, ondelete="CASCADE")
    regimen_id: int = Field(foreign_key="regimen.id", index=True, ondelete="CASCADE")
    status: str = Field(max_length=20, index=True, description="approved | off-label")
    evidence_level: str = Field(max_length=40, index=True)
    evidence_direction: str = Field(max_length=30, description="benefit | mixed | no-benefit | not-assessed")
    claim_basis: str = Field(max_length=30, description="regulatory | checked-studies | article-only")
    source_quote: str | None = Field(default=None, description="The article's own words, kept apart.")


class IndicationSource(SQLModel, table=True):
    __tablename__ = "indication_source"

    id: int | None = Field(default=None, primary_key=True)

    indication_id: int = Field(foreign_key="indication.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="RESTRICT")
    role: str = Field(default="supports", max_length=30)
    ordinal: int = 0


class Study(RecordBase, table=True):
    indication_id: int = Field(foreign_key="indication.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="RESTRICT")
    design: str
    participants: str | None = None
    dose: str | None = None
    result: str
    outcome: str = Field(max_length=20, description="positive | negative | mixed | safety")
    ordinal: int = 0
