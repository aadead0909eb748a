"""Indications: drug x condition x regimen, with evidence, studies and sources embedded."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import ApprovalStatus, ClaimBasis, ConditionCategory
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
from app.kinds.conditions import CODE_SYSTEM, code_filter
from app.kinds.mechanisms import evidence_rank
from app.models.indication import Indication, IndicationSource, Study
from app.schemas import indications as schemas
from app.services import indications as service


def with_warnings(record: Record) -> Record:
    """RECORD WARNINGS HOOK: the one place an indication's ``warnings`` are added (the opioid
    contraindication and the hepatotoxicity warning, attributed), by ``app/services/record_warnings.py`` when
    it lands: ``return record_warnings.with_warnings("indications", record)``."""
    return record


def represent(session: Session) -> list[Record]:
    rows = session.scalars(select(Indication).order_by(col(Indication.slug))).all()
    return [with_warnings(i) for i in service.represent_many(session, rows)]


def search_source(i: Record, records: Records) -> SearchSource:
    condition, regimen = i["condition"], i["regimen"]
    title = f"{condition['name']}: {regimen['name']}".rstrip(": ")
    synonyms: list[str] = next(
        (c["synonyms"] for c in records.get("conditions", ()) if c["slug"] == condition["slug"]), []
    )
    evidence = i["evidence"]
    return SearchSource(
        "indications",
        i["slug"],
        title,
        (title,),
        (),
        lines(
            i["clinical_summary"],
            i["plain_summary"],
            *(f"{s['design']}: {s['result']}" for s in i["studies"]),
            i["source_quote"],
            ", ".join(synonyms),
            " ".join(k["code"] for k in condition["codes"]),
            f"{i['status']}; {evidence['level_title'] or evidence['level']}",
        ),
    )


KIND = Kind(
    name="indications",
    order=60,
    singular="indication",
    table=Indication,
    content_record="IndicationRecord",
    nested=(Nested("sources", IndicationSource), Nested("studies", Study)),
    record_model=schemas.Indication,
    list_model=schemas.IndicationList,
    response_model=schemas.IndicationResponse,
    tag_description="Drug x condition x regimen: status, evidence level, studies.",
    list_summary="List indications",
    list_description="Indications (drug x condition x regimen) with status, evidence level and direction, "
    "studies (negative results included) and sources, the condition and regimen embedded.",
    get_summary="Get an indication",
    get_description="One indication by slug (e.g. `ldn-fibromyalgia`).",
    represent=represent,
    search_source=search_source,
    example_slug="ldn-fibromyalgia",
    sort_fields=(
        slug_field(),
        text_field("status"),
        SortField("evidence_level", lambda r: evidence_rank(r["evidence"]["level"]), "int"),
        updated_at(),
    ),
    filters=(
        Filter(
            "status",
            Annotated[ApprovalStatus | None, Query(description="approved (FDA) or off-label.")],
            equals("status"),
        ),
        Filter(
            "evidence_level",
            Annotated[EvidenceLevel | None, Query(description="Evidence level.")],
            equals("evidence", "level"),
        ),
        Filter(
            "category",
            Annotated[ConditionCategory | None, Query(description="The condition's category.")],
            equals("condition", "category"),
        ),
        Filter(
            "regimen",
            Annotated[str | None, Query(max_length=120, description="Regimen slug.")],
            equals("regimen", "slug"),
        ),
        Filter(
            "condition",
            Annotated[str | None, Query(max_length=120, description="Condition slug.")],
            equals("condition", "slug"),
        ),
        code_filter("condition", "codes"),
        CODE_SYSTEM,
        Filter(
            "claim_basis",
            Annotated[ClaimBasis | None, Query(description="regulatory, checked-studies or article-only.")],
            equals("evidence", "claim_basis"),
        ),
    ),
)
