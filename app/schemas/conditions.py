"""Public shapes of /v1/conditions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import ApprovalStatus, CodeSystem, ConditionCategory, Verification
from app.schemas.common import Recorded, Schema, Summaries, envelopes, record_examples


class ConditionCode(Schema):
    """A code of the condition in ICD-10-CM or SNOMED CT."""

    system: CodeSystem = Field(description="Code system: icd-10-cm or snomed-ct.")
    system_uri: str | None = Field(description="The code system's FHIR URI, e.g. http://hl7.org/fhir/sid/icd-10-cm.")
    code: str = Field(description="The code.", examples=["M79.7"])
    display: str | None = Field(description="The code's display text, or null when not recorded.")
    kind: Literal["header", "billable", "concept"] | None = Field(
        description="header (an ICD-10-CM category, not billable), billable, or concept (SNOMED CT); null if unknown."
    )
    version_note: str | None = Field(description="Code-set version notes (e.g. FY changes), or null.")
    verification: Verification = Field(description="How the code was verified.")


class IndicationRef(Schema):
    """An indication for the condition, in brief (the full record: GET /v1/indications/{slug})."""

    slug: str = Field(description="The indication's slug.")
    status: ApprovalStatus = Field(description="approved (FDA) or off-label.")
    evidence_level: EvidenceLevel = Field(description="Evidence level (see /v1/evidence-levels).")


class ConditionSummary(Schema):
    """A condition in brief, with its codes, as embedded in indications."""

    slug: str = Field(description="The condition's slug.")
    name: str = Field(description="The condition's name.")
    category: ConditionCategory = Field(description="Condition category.")
    codes: list[ConditionCode] = Field(description="ICD-10-CM and SNOMED CT codes.")


class Condition(Recorded, Summaries):
    """A condition with its codes and the indications documented for it."""

    model_config = record_examples("condition")

    slug: str = Field(description="Stable identifier, e.g. fibromyalgia.")
    name: str = Field(description="The condition's name.")
    category: ConditionCategory = Field(description="Condition category.")
    synonyms: list[str] = Field(description="Other names.")
    codes: list[ConditionCode] = Field(description="ICD-10-CM and SNOMED CT codes.")
    indications: list[IndicationRef] = Field(description="Indications of the drug for this condition.")


ConditionListItem, ConditionList, ConditionResponse = envelopes(Condition, "condition", "conditions")
