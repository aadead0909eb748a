"""Dosing regimens and the source-attributed dose ranges that define them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric
from sqlmodel import Field

from app.models.common import RecordBase, SummariesMixin


class Regimen(RecordBase, SummariesMixin, table=True):
    drug_id: int = Field(foreign_key="drug.id", index=True, ondelete="CASCADE")
    name: str
    band: str = Field(max_length=40, index=True, description="low-dose | standard-oral | ...")
    route: str = Field(max_length=40, index=True)
    form: str
    frequency: str
    timing: str | None = None
    approval_status: str = Field(max_length=20, index=True, description="approved | off-label")
    population: str = Field(default="any", max_length=20, description="any | adults | children")


class DoseRange(RecordBase, table=True):
    """A range as one source states it. ``min``/``max`` may be open (null)."""

    __tablename__ = "dose_range"

    regimen_id: int = Field(foreign_key="regimen.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="RESTRICT")
    label: str
    min_value: Decimal | None = Field(default=None, sa_type=Numeric(14, 6))
    max_value: Decimal | None = Field(default=None, sa_type=Numeric(14, 6))
    min_inclusive: bool = True
    max_inclusive: bool = True
    unit: str = Field(max_length=20, description="UCUM unit of the amount: mg, ug, mg/kg")
    period_value: Decimal = Field(default=Decimal(1), sa_type=Numeric(14, 6))
    period_unit: str = Field(default="d", max_length=10, description="UCUM unit of the period: d, wk, mo")
    per: str = Field(default="period", max_length=20, description="period | administration")
    cap_value: Decimal | None = Field(default=None, sa_type=Numeric(14, 6))
    cap_unit: str | None = Field(default=None, max_length=20)
    schedule: str | None = Field(
        default=None,
        description="The weekly schedule the source states when its amounts differ by day (e.g. '50 mg weekdays "
        "+ 100 mg Saturday'); the range then holds its weekly total.",
    )
    is_reference: bool = False
    reference_reason: str | None = None
    quote: str | None = Field(default=None, description="The source's own words.")
    verification: str = Field(max_length=20)
    note: str | None = None
    ordinal: int = 0
