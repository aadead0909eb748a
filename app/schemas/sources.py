"""Public shapes of /v1/sources."""

from __future__ import annotations

from pydantic import Field

from app.domain.vocabulary import SourceKind, Verification
from app.schemas.common import Identifier, Recorded, envelopes, record_examples


class Source(Recorded):
    """A citable thing: a label, regulatory record, trial, review, mechanistic study or article."""

    model_config = record_examples("source")

    slug: str = Field(description="Stable identifier.")
    kind: SourceKind = Field(description="Kind of source.")
    title: str = Field(description="Title as published.")
    authors: str | None = Field(description="Authors as cited, or null when not recorded.")
    journal: str | None = Field(description="Journal abbreviation, or null.")
    year: int | None = Field(description="Year of publication, or null.")
    citation: str | None = Field(description="Volume, issue and pages as cited, or null.")
    url: str | None = Field(description="A stable URL (DOI resolver, PubMed), or null.")
    identifiers: list[Identifier] = Field(description="PMID, DOI, PMCID, NCT and other identifiers.")
    verification: Verification = Field(description="How the source was verified.")
    note: str | None = Field(description="A caveat about the source, or null.")


SourceListItem, SourceList, SourceResponse = envelopes(Source, "source", "sources")
