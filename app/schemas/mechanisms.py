"""Public shapes of /v1/mechanisms."""

from __future__ import annotations

from pydantic import Field

from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import MechanismAttribution
from app.schemas.common import Recorded, SourceCitation, Summaries, envelopes, record_examples
from app.schemas.regimens import RegimenSummary
from app.schemas.targets import DoseContext, TargetSummary


class QuotedSource(SourceCitation):
    """A source cited for a mechanism, with the passage that supports it."""

    quote: str | None = Field(description="The source's own words, or null.")


class Mechanism(Recorded, Summaries):
    """What the drug does at a target in a dose context, how that differs with dose, and who says so."""

    model_config = record_examples("mechanism")

    slug: str = Field(description="Stable identifier.")
    name: str = Field(description="The mechanism's name.")
    target: TargetSummary = Field(description="The target.")
    regimen: RegimenSummary | None = Field(description="The regimen it is documented for, or null for any dose.")
    dose_context: DoseContext = Field(description="The dose context it holds in: low-dose, standard or any.")
    action: str = Field(description="What the drug does at the target, e.g. competitive antagonist.")
    effect: str = Field(description="The effect, as the sources describe it.")
    dose_dependence: str | None = Field(
        description="How the effect differs with dose and duration of blockade, or null."
    )
    evidence_level: EvidenceLevel = Field(description="Evidence level (see /v1/evidence-levels).")
    attribution: MechanismAttribution = Field(
        description="reference-checked, or article-claim for the seed article's own account (kept apart)."
    )
    sources: list[QuotedSource] = Field(description="The sources, with their passages.")


MechanismListItem, MechanismList, MechanismResponse = envelopes(Mechanism, "mechanism", "mechanisms")
