"""Public shapes of /v1/mechanisms."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import MechanismAttribution
from app.schemas.common import Links, ListMeta, Meta, Recorded, Schema, SourceCitation, Summaries, list_item_schema
from app.schemas.examples import example
from app.schemas.regimens import RegimenSummary
from app.schemas.targets import DoseContext, TargetSummary


class QuotedSource(SourceCitation):
    """A source cited for a mechanism, with the passage that supports it."""

    quote: str | None = Field(description="The source's own words, or null.")


class Mechanism(Recorded, Summaries):
    """What the drug does at a target in a dose context, how that differs with dose, and who says so."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("mechanism")["data"]]})

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


class MechanismListItem(Mechanism):
    """Mechanism as a list item (every field)."""

    model_config = ConfigDict(json_schema_extra=list_item_schema)


class MechanismList(Schema):
    """A page of mechanisms."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("mechanism_list")]})

    data: list[MechanismListItem] = Field(description="The mechanisms on this page.")
    meta: ListMeta = Field(description="Dataset metadata and paging counts.")
    links: Links = Field(description="Paging links.")


class MechanismResponse(Schema):
    """One mechanism."""

    model_config = ConfigDict(json_schema_extra={"examples": [example("mechanism")]})

    data: Mechanism = Field(description="The mechanism.")
    meta: Meta = Field(description="Dataset metadata.")
