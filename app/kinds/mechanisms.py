"""Mechanisms: drug x target x dose context, with evidence and sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.evidence import RANK, EvidenceLevel
from app.domain.search_text import label_variants
from app.domain.vocabulary import MechanismAttribution
from app.kinds.base import (
    Filter,
    Kind,
    Nested,
    Record,
    Records,
    SearchSource,
    SortField,
    equals,
    lines,
    slug_field,
    text_field,
)
from app.kinds.base import updated_at_field as updated_at
from app.models.mechanism import Mechanism, MechanismSource
from app.schemas import mechanisms as schemas
from app.services import mechanisms as service


def represent(session: Session) -> list[Record]:
    return service.represent_many(session, session.scalars(select(Mechanism).order_by(col(Mechanism.slug))).all())


def search_source(m: Record, _records: Records) -> SearchSource:
    target, regimen = m["target"], m["regimen"]
    return SearchSource(
        "mechanisms",
        m["slug"],
        m["name"],
        tuple(label_variants(m["name"])),
        (),
        lines(
            m["clinical_summary"],
            m["plain_summary"],
            m["effect"],
            m["dose_dependence"],
            f"{m['action']} at the {target['name']}" if target else m["action"],
            regimen["name"] if regimen else None,
        ),
    )


def _target(record: Record, value: Any, _params: Mapping[str, Any]) -> bool:
    target = record["target"]
    return bool(target["slug"] == value or target["gene_symbol"] == str(value).upper())


def evidence_rank(level: str | None) -> int:
    """Strongest first (regulatory approval 0, ...); an unknown level sorts last."""
    try:
        return RANK[EvidenceLevel(level or "")]
    except ValueError:
        return 99


KIND = Kind(
    name="mechanisms",
    order=40,
    singular="mechanism",
    table=Mechanism,
    content_record="MechanismRecord",
    nested=(Nested("sources", MechanismSource),),
    record_model=schemas.Mechanism,
    list_model=schemas.MechanismList,
    response_model=schemas.MechanismResponse,
    tag_description="What naltrexone does at each target, by dose and duration.",
    list_summary="List mechanisms",
    list_description="What naltrexone does at each target, how it differs with dose and duration of blockade, "
    "with evidence level and sources. The seed article's own account is kept apart "
    "(`attribution: article-claim`).",
    get_summary="Get a mechanism",
    get_description="One mechanism by slug.",
    represent=represent,
    search_source=search_source,
    sort_fields=(
        slug_field(),
        text_field("name"),
        SortField("evidence_level", lambda r: evidence_rank(r["evidence_level"]), "int"),
        updated_at(),
    ),
    filters=(
        Filter(
            "target",
            Annotated[str | None, Query(max_length=120, description="Target slug or gene symbol (e.g. `TLR4`).")],
            _target,
        ),
        Filter(
            "regimen",
            Annotated[str | None, Query(max_length=120, description="Regimen slug.")],
            equals("regimen", "slug"),
        ),
        Filter(
            "dose_context",
            Annotated[
                str | None, Query(pattern=r"^(low-dose|standard|any)$", description="low-dose, standard or any.")
            ],
            equals("dose_context"),
        ),
        Filter(
            "evidence_level",
            Annotated[EvidenceLevel | None, Query(description="Evidence level.")],
            equals("evidence_level"),
        ),
        Filter(
            "attribution",
            Annotated[MechanismAttribution | None, Query(description="Who states it.")],
            equals("attribution"),
        ),
    ),
)
