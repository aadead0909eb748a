"""Sources: the citable things every claim points at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.errors import NotFoundError
from app.models import Source
from app.services.embeds import bookkeeping
from app.services.listing import Page, PageRequest, SortKey, paginate

SORTABLE = {
    "slug": SortKey(col(Source.slug)),
    "year": SortKey(func.coalesce(col(Source.year), 0), "int"),
    "updated_at": SortKey(col(Source.updated_at), "datetime"),
}


def represent(source: Source) -> dict[str, Any]:
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


def list_sources(
    session: Session, *, page: PageRequest, kind: str | None = None, verification: str | None = None
) -> Page[dict[str, Any]]:
    statement = select(Source)
    if kind:
        statement = statement.where(col(Source.kind) == kind)
    if verification:
        statement = statement.where(col(Source.verification) == verification)
    result = paginate(session, statement, col(Source.slug), SORTABLE, page)
    return Page([represent(s) for s in result.items], result.total, result.limit, result.next_cursor)


def get_source(session: Session, *, slug: str) -> dict[str, Any]:
    source = session.scalars(select(Source).where(col(Source.slug) == slug)).first()
    if source is None:
        raise NotFoundError("source", slug)
    return represent(source)
