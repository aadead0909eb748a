"""Targets (receptors) with the mechanisms documented at each."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.search_text import label_variants
from app.domain.vocabulary import TargetFamily
from app.kinds.base import (
    Filter,
    Kind,
    Record,
    Records,
    SearchSource,
    equals,
    identifiers_line,
    lines,
    slug_field,
    text_field,
)
from app.kinds.base import updated_at_field as updated_at
from app.models.target import Target
from app.schemas import targets as schemas
from app.services import targets as service


def represent(session: Session) -> list[Record]:
    return service.represent_many(session, session.scalars(select(Target).order_by(col(Target.slug))).all())


def search_source(t: Record, _records: Records) -> SearchSource:
    symbols = [t["gene_symbol"]] if t["gene_symbol"] else []
    return SearchSource(
        "targets",
        t["slug"],
        t["name"],
        (*label_variants(t["name"]), *t["synonyms"], *symbols),
        (),
        lines(t["clinical_summary"], t["plain_summary"], identifiers_line(t["identifiers"])),
        ((t["name"], (*t["synonyms"], *symbols)),),
    )


KIND = Kind(
    name="targets",
    order=30,
    singular="target",
    table=Target,
    content_record="TargetRecord",
    record_model=schemas.Target,
    list_model=schemas.TargetList,
    response_model=schemas.TargetResponse,
    tag_description="Receptors: mu, delta, kappa opioid receptors, OGF receptor, TLR4.",
    list_summary="List targets",
    list_description="Receptors naltrexone acts at: classical opioid receptors, the opioid growth factor "
    "receptor, TLR4.",
    get_summary="Get a target",
    get_description="One target by slug (e.g. `toll-like-receptor-4`).",
    represent=represent,
    search_source=search_source,
    example_slug="toll-like-receptor-4",
    sort_fields=(slug_field(), text_field("name"), text_field("family"), updated_at()),
    filters=(
        Filter("family", Annotated[TargetFamily | None, Query(description="Receptor family.")], equals("family")),
    ),
)
