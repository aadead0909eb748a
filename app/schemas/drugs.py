"""Public shapes of /v1/drugs."""

from __future__ import annotations

from pydantic import Field

from app.domain.vocabulary import ApprovalStatus, Verification
from app.schemas.common import (
    Identifier,
    Recorded,
    Schema,
    SourceCitation,
    Summaries,
    envelopes,
    record_examples,
)


class Salt(Schema):
    """A salt form of the drug with its own identifiers."""

    name: str = Field(description="Name of the salt, e.g. naltrexone hydrochloride.")
    identifiers: list[Identifier] = Field(description="The salt's identifiers (UNII, CAS, ...).")


class Contraindication(Schema):
    """A contraindication as a label states it, with its source."""

    text: str = Field(description="The contraindication in the label's terms.")
    verification: Verification = Field(description="How it was verified.")
    note: str | None = Field(description="Scope or history of the statement (e.g. which labels carry it), or null.")
    source: SourceCitation = Field(description="The label that states it.")


class ApprovalEvent(Schema):
    """One event of the drug's regulatory history (an FDA approval, a label change)."""

    slug: str = Field(description="Stable identifier of the event.")
    date: str = Field(description="ISO date or year, as precise as the source states it.")
    date_note: str | None = Field(description="A caveat about the date, or null.")
    event: str = Field(description="What happened.")
    product: str | None = Field(description="The product (brand) concerned, or null.")
    application: str | None = Field(description="The FDA application number (e.g. an NDA), or null.")
    regimen: str | None = Field(description="Slug of the regimen it concerns, or null.")
    verification: Verification = Field(description="How it was verified.")
    source: SourceCitation | None = Field(description="The source that records it, or null.")


class RegimenRef(Schema):
    """A regimen of the drug, in brief (the full record: GET /v1/regimens/{slug})."""

    slug: str = Field(description="The regimen's slug.")
    name: str = Field(description="The regimen's name.")
    band: str = Field(description="Dose band, e.g. low-dose, standard-oral.")
    approval_status: ApprovalStatus = Field(description="approved (FDA) or off-label.")


class Drug(Recorded, Summaries):
    """A drug: identifiers, salts, contraindications, regulatory history and regimens."""

    model_config = record_examples("drug")

    slug: str = Field(description="Stable identifier, e.g. naltrexone.")
    name: str = Field(description="International nonproprietary name.")
    synonyms: list[str] = Field(description="Other names, brand names included.")
    identifiers: list[Identifier] = Field(description="RxNorm, UNII, ATC, DrugBank, CAS, ChEBI, PubChem identifiers.")
    salts: list[Salt] = Field(description="Salt forms with their identifiers.")
    contraindications: list[Contraindication] = Field(description="Contraindications, each attributed to a label.")
    approval_history: list[ApprovalEvent] = Field(description="Regulatory history, oldest first.")
    regimens: list[RegimenRef] = Field(description="The drug's dosing regimens, by slug.")


DrugListItem, DrugList, DrugResponse = envelopes(Drug, "drug", "drugs")
