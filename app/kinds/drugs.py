"""Drugs: identifiers, salts, contraindications and approval history."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from app.domain.search_text import label_variants
from app.kinds.base import Kind, Nested, Record, Records, SearchSource, identifiers_line, lines, slug_field, text_field
from app.kinds.base import updated_at_field as updated_at
from app.models.drug import Approval, Drug
from app.schemas import drugs as schemas
from app.services import drugs as service


def represent(session: Session) -> list[Record]:
    return service.represent_many(session, session.scalars(select(Drug).order_by(col(Drug.slug))).all())


def search_source(d: Record, _records: Records) -> SearchSource:
    salts = ", ".join(str(s.get("name", "")) for s in d["salts"])
    contraindications = [str(c.get("text", "")) for c in d["contraindications"]]
    return SearchSource(
        "drugs",
        d["slug"],
        d["name"],
        (*label_variants(d["name"]), *d["synonyms"]),
        (),
        lines(d["clinical_summary"], d["plain_summary"], salts, *contraindications, identifiers_line(d["identifiers"])),
        ((d["name"], tuple(d["synonyms"])),),
    )


KIND = Kind(
    name="drugs",
    order=10,
    singular="drug",
    table=Drug,
    content_record="DrugRecord",
    nested=(Nested("approvals", Approval),),
    record_model=schemas.Drug,
    list_model=schemas.DrugList,
    response_model=schemas.DrugResponse,
    tag_description="The drug: identifiers, salts, contraindications, FDA approval history.",
    list_summary="List drugs",
    list_description="Drugs with identifiers (RxNorm, UNII, ATC, ...), salts, contraindications and approval history.",
    get_summary="Get a drug",
    get_description="One drug by slug (e.g. `naltrexone`).",
    represent=represent,
    search_source=search_source,
    example_slug="naltrexone",
    sort_fields=(slug_field(), text_field("name"), updated_at()),
)
