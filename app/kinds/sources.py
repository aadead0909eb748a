"""Sources: the citable things every claim points at."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.search_text import label_variants
from app.domain.vocabulary import SourceKind, Verification
from app.kinds.base import (
    Filter,
    Kind,
    Record,
    Records,
    SearchSource,
    SortField,
    equals,
    identifiers_line,
    lines,
    slug_field,
    updated_at_field,
)
from app.models.source import Source
from app.schemas import sources as schemas
from app.services.embeds import bookkeeping


def represent_one(source: Source) -> Record:
    return {
        "slug": source.slug,
        "kind": source.kind,
        "title": source.title,
        "authors": source.authors,
        "journal": source.journal,
        "year": source.year,
        "citation": source.citation,
        "url": source.url,
        "identifiers": source.identifiers,
        "verification": source.verification,
        "note": source.note,
        **bookkeeping(source),
    }


def represent(session: Session) -> list[Record]:
    """Every source in slug order (a source embeds nothing: one query)."""
    return [represent_one(s) for s in session.scalars(select(Source).order_by(col(Source.slug))).all()]


def search_source(s: Record, _records: Records) -> SearchSource:
    cited = " ".join(str(v) for v in (s["journal"], s["year"], s["citation"]) if v)
    return SearchSource(
        "sources",
        s["slug"],
        s["title"],
        tuple(label_variants(s["title"])),
        (),
        lines(s["authors"], cited, s["note"], identifiers_line(s["identifiers"])),
    )


KIND = Kind(
    name="sources",
    order=70,
    singular="source",
    table=Source,
    content_record="SourceRecord",
    record_model=schemas.Source,
    list_model=schemas.SourceList,
    response_model=schemas.SourceResponse,
    tag_description="Labels, regulatory records, trials, reviews and the seed article.",
    list_summary="List sources",
    list_description="Every source cited: labels, regulatory records, trials, reviews and the seed article, with "
    "identifiers (PMID, DOI, PMCID, NCT) and their verification status.",
    get_summary="Get a source",
    get_description="One source by slug.",
    represent=represent,
    search_source=search_source,
    example_slug="younger-2014",
    sort_fields=(slug_field(), SortField("year", lambda r: int(r["year"] or 0), "int"), updated_at_field()),
    filters=(
        Filter("kind", Annotated[SourceKind | None, Query(description="Kind of source.")], equals("kind")),
        Filter(
            "verification",
            Annotated[Verification | None, Query(description="Verification status.")],
            equals("verification"),
        ),
    ),
)
