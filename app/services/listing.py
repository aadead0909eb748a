"""One generic path for sorting and cursor paging of any table (keyset, stable, opaque cursors)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.sql import Select
from sqlmodel import Session

from app.errors import ProblemError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    cursor: str | None = None
    sort: str = "slug"


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class SortKey:
    """A sortable expression; ``kind`` tells how its cursor value is encoded."""

    expression: Any  # a column or SQL expression
    kind: str = "str"  # str | int | datetime


def encode_cursor(sort: str, value: Any, slug: str) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = orjson.dumps([sort, value, slug])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, key: SortKey) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_in, value, slug = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, orjson.JSONDecodeError, TypeError):
        raise ProblemError("invalid-cursor", "The cursor is not one this service issued.") from None
    if sort_in != sort or not isinstance(slug, str):
        raise ProblemError("invalid-cursor", "The cursor belongs to another sort order; restart paging.")
    try:
        if key.kind == "int":
            value = int(value)
        elif key.kind == "datetime":
            value = datetime.fromisoformat(str(value))
        elif not isinstance(value, str):
            raise TypeError
    except (TypeError, ValueError):
        raise ProblemError("invalid-cursor", "The cursor's value is malformed.") from None
    return value, slug


def paginate(
    session: Session,
    statement: Select[Any],
    slug_column: Any,
    sortable: dict[str, SortKey],
    page: PageRequest,
) -> Page[Any]:
    """Run ``statement`` (selecting one entity) sorted, filtered by the cursor, one page long.

    Two queries whatever the page size: the total and the page (plus one row to know if more follow).
    """
    descending = page.sort.startswith("-")
    name = page.sort.lstrip("-")
    key = sortable.get(name)
    if key is None:
        allowed = ", ".join(sorted(sortable) + sorted(f"-{s}" for s in sortable))
        raise ProblemError(
            "bad-request",
            f"Cannot sort by '{page.sort}'. Sortable: {allowed}.",
            errors=[{"field": "sort", "in": "query", "message": f"one of {allowed}"}],
        )
    total = session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    expr = key.expression
    if page.cursor:
        value, last_slug = decode_cursor(page.cursor, page.sort, key)
        if expr.compare(slug_column):  # sorted by the slug itself: one comparison the slug index answers
            cond = slug_column < last_slug if descending else slug_column > last_slug
        else:  # a row value, the same order as ORDER BY (expr, slug); not an OR, which stores cannot seek
            row, bound = tuple_(expr, slug_column), tuple_(literal(value), literal(last_slug))
            cond = row < bound if descending else row > bound
        statement = statement.where(cond)
    order = (expr.desc(), slug_column.desc()) if descending else (expr.asc(), slug_column.asc())
    statement = statement.add_columns(expr.label("_sort_value")).order_by(*order).limit(page.limit + 1)
    rows = session.execute(statement).all()
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    items = [row[0] for row in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(page.sort, last[-1], last[0].slug)
    return Page(items=items, total=int(total), limit=page.limit, next_cursor=next_cursor)
