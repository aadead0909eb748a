"""The shape of the curated YAML files. Every file is a list of records of one kind.

References between records are by slug (``source: toljan-2018``); the loader resolves them and
refuses a dataset with a dangling reference. Field order here is the order the exporter writes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.domain.evidence import EvidenceDirection, EvidenceLevel
from app.domain.vocabulary import (
    ApprovalStatus,
    ClaimBasis,
    CodeSystem,
    ConditionCategory,
    MechanismAttribution,
    Route,
    SourceKind,
    StudyOutcome,
    TargetFamily,
    Verification,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Identifier(_Strict):
    system: Literal[
        "pmid",
        "doi",
        "pmcid",
        "nct",
        "url",
        "nda",
        "rxnorm",
        "unii",
        "atc",
        "drugbank",
        "cas",
        "chebi",
        "pubchem",
        "uniprot",
        "hgnc",
    ]
    value: Text
    verification: Verification
    note: str | None = None


class SourceRecord(_Strict):
    slug: Slug
    kind: SourceKind
    title: Text
    authors: str | None = None
    journal: str | None = None
    year: int | None = Field(default=None, ge=1900, le=2100)
    citation: str | None = None
    url: str | None = None
    identifiers: list[Identifier] = []
    verification: Verification
    note: str | None = None


class Salt(_Strict):
    name: Text
    identifiers: list[Identifier] = []


class Contraindication(_Strict):
    text: Text
    source: Slug
    verification: Verification
    note: str | None = None


class ApprovalRecord(_Strict):
    slug: Slug
    date: Text
    date_note: str | None = None
    event: Text
    product: str | None = None
    application: str | None = None
    regimen: Slug | None = None
    source: Slug | None = None
    verification: Verification


class DrugRecord(_Strict):
    slug: Slug
    name: Text
    synonyms: list[str] = []
    identifiers: list[Identifier] = []
    salts: list[Salt] = []
    contraindications: list[Contraindication] = []
    approvals: list[ApprovalRecord] = []
    clinical_summary: Text
    plain_summary: Text


class DoseRangeRecord(_Strict):
    slug: Slug
    label: Text
    source: Slug
    min: Decimal | None = None
    max: Decimal | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    unit: Literal["mg", "ug", "mg/kg"]
    period_value: Decimal = Decimal(1)
    period_unit: Literal["d", "wk", "mo"] = "d"
    per: Literal["period", "administration", "administration-only"] = "period"
    """period: amount per period; administration: one administration, once per period;
    administration-only: one administration, the source states no frequency (the period is not used)."""
    cap: Decimal | None = None
    cap_unit: Literal["mg", "ug"] | None = None
    schedule: str | None = None
    """The weekly schedule the source states when its amounts differ by day (the range holds its weekly total)."""
    is_reference: bool = False
    reference_reason: str | None = None
    quote: str | None = None
    verification: Verification
    note: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> DoseRangeRecord:
        if self.min is None and self.max is None:
            raise ValueError("a dose range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if self.is_reference and not self.reference_reason:
            raise ValueError("a reference range states its reason")
        return self


class RegimenRecord(_Strict):
    slug: Slug
    drug: Slug
    name: Text
    band: Slug
    route: Route
    form: Text
    frequency: Text
    timing: str | None = None
    approval_status: ApprovalStatus
    population: Literal["any", "adults", "children"] = "any"
    dose_ranges: list[DoseRangeRecord] = Field(min_length=1)
    clinical_summary: Text
    plain_summary: Text


class TargetRecord(_Strict):
    slug: Slug
    name: Text
    gene_symbol: str | None = None
    uniprot: str | None = None
    family: TargetFamily
    synonyms: list[str] = []
    identifiers: list[Identifier] = []
    clinical_summary: Text
    plain_summary: Text


class CitedSource(_Strict):
    source: Slug
    quote: str | None = None


class MechanismRecord(_Strict):
    slug: Slug
    drug: Slug
    target: Slug
    regimen: Slug | None = None
    name: Text
    dose_context: Literal["low-dose", "standard", "any"]
    action: Text
    effect: Text
    dose_dependence: str | None = None
    evidence_level: EvidenceLevel
    attribution: MechanismAttribution
    sources: list[CitedSource] = Field(min_length=1)
    clinical_summary: Text
    plain_summary: Text


class ConditionCodeRecord(_Strict):
    system: CodeSystem
    code: Text
    display: str | None = None
    kind: Literal["header", "billable", "concept"] | None = None
    version_note: str | None = None
    verification: Verification


class ConditionRecord(_Strict):
    slug: Slug
    name: Text
    category: ConditionCategory
    synonyms: list[str] = []
    codes: list[ConditionCodeRecord] = []
    clinical_summary: Text
    plain_summary: Text


class IndicationSourceRecord(_Strict):
    source: Slug
    role: Literal["supports", "contradicts", "approval", "claim", "context"] = "supports"


class StudyRecord(_Strict):
    slug: Slug
    source: Slug
    design: Text
    participants: str | None = None
    dose: str | None = None
    result: Text
    outcome: StudyOutcome


class IndicationRecord(_Strict):
    slug: Slug
    drug: Slug
    condition: Slug
    regimen: Slug
    status: ApprovalStatus
    evidence_level: EvidenceLevel
    evidence_direction: EvidenceDirection
    claim_basis: ClaimBasis
    source_quote: str | None = None
    sources: list[IndicationSourceRecord] = Field(min_length=1)
    studies: list[StudyRecord] = []
    clinical_summary: Text
    plain_summary: Text


class Dataset(_Strict):
    """All records of the curated dataset, by kind (each field named as its kind in app/kinds/), in load order.
    How each record is stored and exported follows from its kind's declaration (app/content/rows.py)."""

    sources: list[SourceRecord]
    drugs: list[DrugRecord]
    targets: list[TargetRecord]
    regimens: list[RegimenRecord]
    mechanisms: list[MechanismRecord]
    conditions: list[ConditionRecord]
    indications: list[IndicationRecord]


#: Every kind's file name (``<kind>.yaml``), in load order: a kind only references kinds before it.
KINDS: tuple[str, ...] = tuple(Dataset.model_fields)
