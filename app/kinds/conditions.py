"""Conditions and their codes (ICD-10-CM, SNOMED CT); code lookups understand ICD-10-CM headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.search_text import label_variants
from app.domain.vocabulary import CodeSystem, ConditionCategory
from app.kinds.base import Filter, Kind, Nested, Record, Records, SearchSource, equals, lines, slug_field, text_field
from app.kinds.base import updated_at_field as updated_at
from app.models.condition import Condition, ConditionCode
from app.schemas import conditions as schemas
from app.services import conditions as service

CodeQuery = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=30,
        pattern=r"^[A-Za-z0-9.\-]+$",
        description="A condition code (ICD-10-CM or SNOMED CT). An ICD-10-CM code also matches its header "
        "categories (K50.90 finds K50).",
    ),
]
CodeSystemQuery = Annotated[CodeSystem | None, Query(description="Restrict `code` to one code system.")]


def codes_match(codes: Sequence[Mapping[str, Any]], code: str, system: str | None) -> bool:
    """Whether a code of ``codes`` is ``code`` or an ICD-10-CM header above it (see :func:`matched_codes`)."""
    return bool(service.matched_codes(codes, code, system))


def code_filter(*path: str) -> Filter:
    """``code`` over the codes at ``path`` of a record (with ``code_system`` read from the same request)."""

    def match(record: Record, value: Any, params: Mapping[str, Any]) -> bool:
        current: Any = record
        for key in path:
            current = current[key]
        return codes_match(current, str(value), params.get("code_system"))

    return Filter("code", CodeQuery, match)


CODE_SYSTEM = Filter("code_system", CodeSystemQuery, None)


def represent(session: Session) -> list[Record]:
    return service.represent_many(session, session.scalars(select(Condition).order_by(col(Condition.slug))).all())


def search_source(c: Record, _records: Records) -> SearchSource:
    code_lines = [" ".join(filter(None, (k["system"].upper(), k["code"], k["display"]))) for k in c["codes"]]
    return SearchSource(
        "conditions",
        c["slug"],
        c["name"],
        (*label_variants(c["name"]), *c["synonyms"]),
        tuple(k["code"] for k in c["codes"]),
        lines(c["clinical_summary"], c["plain_summary"], *code_lines),
        ((c["name"], tuple(c["synonyms"])),),
    )


KIND = Kind(
    name="conditions",
    order=50,
    singular="condition",
    table=Condition,
    content_record="ConditionRecord",
    nested=(Nested("codes", ConditionCode, {"kind": "code_kind"}),),
    record_model=schemas.Condition,
    list_model=schemas.ConditionList,
    response_model=schemas.ConditionResponse,
    tag_description="Conditions with ICD-10-CM and SNOMED CT codes.",
    list_summary="List conditions",
    list_description="Conditions with ICD-10-CM and SNOMED CT codes (each with its verification status and "
    "version notes).",
    get_summary="Get a condition",
    get_description="One condition by slug (e.g. `fibromyalgia`).",
    represent=represent,
    search_source=search_source,
    example_slug="fibromyalgia",
    sort_fields=(slug_field(), text_field("name"), text_field("category"), updated_at()),
    filters=(
        Filter(
            "category",
            Annotated[ConditionCategory | None, Query(description="Condition category.")],
            equals("category"),
        ),
        code_filter("codes"),
        CODE_SYSTEM,
    ),
)
