"""Public shapes of /v1/targets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import MechanismAttribution, TargetFamily
from app.schemas.common import Identifier, Recorded, Schema, Summaries, envelopes, record_examples

DoseContext = Literal["low-dose", "standard", "any"]


class TargetSummary(Schema):
    """A target in brief, as embedded in mechanisms."""

    slug: str = Field(description="The target's slug.")
    name: str = Field(description="The target's name.")
    gene_symbol: str | None = Field(description="HGNC gene symbol, or null.")
    family: TargetFamily = Field(description="Receptor family.")


class MechanismRef(Schema):
    """A mechanism documented at the target, in brief (the full record: GET /v1/mechanisms/{slug})."""

    slug: str = Field(description="The mechanism's slug.")
    name: str = Field(description="The mechanism's name.")
    dose_context: DoseContext = Field(description="The dose context it holds in: low-dose, standard or any.")
    action: str = Field(description="What the drug does at the target, e.g. competitive antagonist.")
    evidence_level: EvidenceLevel = Field(description="Evidence level (see /v1/evidence-levels).")
    attribution: MechanismAttribution = Field(
        description="reference-checked, or article-claim for the seed article's own account."
    )


class Target(Recorded, Summaries):
    """A receptor or other molecular target, with the mechanisms documented at it."""

    model_config = record_examples("target")

    slug: str = Field(description="Stable identifier, e.g. toll-like-receptor-4.")
    name: str = Field(description="The target's name.")
    gene_symbol: str | None = Field(description="HGNC gene symbol, or null.")
    uniprot: str | None = Field(description="UniProt accession, or null.")
    family: TargetFamily = Field(description="Receptor family.")
    synonyms: list[str] = Field(description="Other names.")
    identifiers: list[Identifier] = Field(description="HGNC, UniProt and other identifiers.")
    mechanisms: list[MechanismRef] = Field(description="Mechanisms documented at this target.")


TargetListItem, TargetList, TargetResponse = envelopes(Target, "target", "targets")
