"""Shared pieces of representations: source citations, numbers, record bookkeeping."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.models import Source
from app.models.common import RecordBase


def number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an int when integral, else the shortest float."""
    if value is None:
        return None
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return int(normal)
    return float(normal)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with an explicit offset; SQLite hands back naive datetimes that were stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def bookkeeping(row: RecordBase) -> dict[str, Any]:
    return {"version": row.version, "created_at": iso_utc(row.created_at), "updated_at": iso_utc(row.updated_at)}


def source_citation(source: Source) -> dict[str, Any]:
    """The compact form of a source embedded in other records."""
    return {
        "slug": source.slug,
        "kind": source.kind,
        "title": source.title,
        "authors": source.authors,
        "journal": source.journal,
        "year": source.year,
        "url": source.url,
        "verification": source.verification,
    }


def sources_by_id(session: Session, ids: Iterable[int]) -> dict[int, Source]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Source).where(Source.id.in_(wanted))).all()  # type: ignore[union-attr]
    return {row.id: row for row in rows if row.id is not None}


def group_by(rows: Iterable[Any], key: str) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    return groups
