"""Public shapes of /v1/indications."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.domain.evidence import EvidenceDirection, EvidenceLevel
from app.domain.vocabulary import ApprovalStatus, ClaimBasis, StudyOutcome
from app.schemas.common import (
    DrugRef,
    Recorded,
    Schema,
    SourceCitation,
    Summaries,
    envelopes,
    record_examples,
)
from app.schemas.conditions import ConditionSummary
from app.schemas.regimens import RecordWarning, RegimenSummary


class Evidence(Schema):
    """How strong the checked evidence is, and which way it points."""

    level: EvidenceLevel = Field(description="Evidence level by study design (see /v1/evidence-levels).")
    level_title: str | None = Field(description="The level's title.")
    direction: EvidenceDirection = Field(description="benefit, mixed, no-benefit or not-assessed.")
    claim_basis: ClaimBasis = Field(
        description="regulatory (a label), checked-studies, or article-only (only the seed article says so)."
    )


class Study(Schema):
    """A study of the indication, negative results included."""

    slug: str = Field(description="Stable identifier of the study entry.")
    design: str = Field(description="Study design, e.g. randomized, double-blind, placebo-controlled crossover trial.")
    participants: str | None = Field(description="Participants, as reported, or null.")
    dose: str | None = Field(description="Dose studied, as reported, or null.")
    result: str = Field(description="The result, as reported.")
    outcome: StudyOutcome = Field(description="positive, negative, mixed, safety or not-reported.")
    source: SourceCitation = Field(description="The publication.")


class IndicationSource(SourceCitation):
    """A source cited for the indication, with its role."""

    role: Literal["supports", "contradicts", "approval", "claim", "context"] = Field(
        description="What the source does for the indication."
    )


class Indication(Recorded, Summaries):
    """Drug x condition x regimen: status, evidence, studies and sources."""

    model_config = record_examples("indication")

    slug: str = Field(description="Stable identifier, e.g. ldn-fibromyalgia.")
    drug: DrugRef = Field(description="The drug.")
    condition: ConditionSummary = Field(description="The condition, with its codes.")
    regimen: RegimenSummary = Field(description="The regimen.")
    status: ApprovalStatus = Field(description="approved (FDA) or off-label.")
    evidence: Evidence = Field(description="Evidence level, direction and basis.")
    source_quote: str | None = Field(description="The seed article's own words, kept apart, or null.")
    studies: list[Study] = Field(description="Studies, negative results included.")
    sources: list[IndicationSource] = Field(description="Sources, each with its role.")
    warnings: list[RecordWarning] = Field(
        description="The label's opioid contraindication and its hepatotoxicity warning, attributed (see Regimen)."
    )


IndicationListItem, IndicationList, IndicationResponse = envelopes(Indication, "indication", "indications")
