"""Dosing regimens with every source's dose range, attributed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.search_text import label_variants
from app.domain.vocabulary import ApprovalStatus, Route
from app.kinds.base import Filter, Kind, Nested, Record, Records, SearchSource, equals, lines, slug_field, text_field
from app.kinds.base import updated_at_field as updated_at
from app.models.regimen import DoseRange, Regimen
from app.schemas import regimens as schemas
from app.services import regimens as service


def with_warnings(record: Record) -> Record:
    """RECORD WARNINGS HOOK: the one place a regimen's ``warnings`` are added (the opioid contraindication
    and the hepatotoxicity warning, attributed), by ``app/services/record_warnings.py`` when it lands:
    ``return record_warnings.with_warnings("regimens", record)``."""
    return record


def represent(session: Session) -> list[Record]:
    rows = session.scalars(select(Regimen).order_by(col(Regimen.slug))).all()
    return [with_warnings(r) for r in service.represent_many(session, rows)]


def search_source(r: Record, _records: Records) -> SearchSource:
    ranges = [f"{x['label']}: {x['quote']}" if x["quote"] else x["label"] for x in r["dose_ranges"]]
    return SearchSource(
        "regimens",
        r["slug"],
        r["name"],
        tuple(label_variants(r["name"])),
        (),
        lines(r["clinical_summary"], r["plain_summary"], r["form"], r["frequency"], r["timing"], *ranges),
        ((r["name"], ()),),
    )


KIND = Kind(
    name="regimens",
    order=20,
    singular="regimen",
    table=Regimen,
    content_record="RegimenRecord",
    nested=(Nested("dose_ranges", DoseRange, {"min": "min_value", "max": "max_value", "cap": "cap_value"}),),
    record_model=schemas.Regimen,
    list_model=schemas.RegimenList,
    response_model=schemas.RegimenResponse,
    tag_description="Dosing regimens and each source's dose range, attributed.",
    list_summary="List dosing regimens",
    list_description="Regimens (low-dose, standard oral, extended-release injectable, ...) with every source's "
    "dose range, each attributed to its source, and the reference range with its reason.",
    get_summary="Get a regimen",
    get_description="One regimen by slug (e.g. `low-dose-naltrexone`).",
    represent=represent,
    search_source=search_source,
    example_slug="low-dose-naltrexone",
    sort_fields=(slug_field(), text_field("name"), text_field("band"), updated_at()),
    filters=(
        Filter(
            "approval_status",
            Annotated[ApprovalStatus | None, Query(description="approved or off-label.")],
            equals("approval_status"),
        ),
        Filter("route", Annotated[Route | None, Query(description="Route of administration.")], equals("route")),
        Filter(
            "band",
            Annotated[str | None, Query(max_length=40, pattern=r"^[a-z-]+$", description="Dose band.")],
            equals("band"),
        ),
    ),
)
