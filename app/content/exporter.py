"""Export the store back to the dataset's form (the inverse of the loader), by the rules of
app/content/rows.py: no per-kind code here."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.content.rows import KINDS_IN_LOAD_ORDER, Slugs, from_columns, item_model, parent_key
from app.content.schema import Dataset
from app.kinds.base import Kind, Nested


def _by_id(session: Session, model: Any) -> dict[int, Any]:
    return {row.id: row for row in session.scalars(select(model).order_by(model.id)).all()}


def _grouped(session: Session, model: Any, key: str) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in session.scalars(select(model).order_by(getattr(model, key), model.ordinal)).all():
        groups[getattr(row, key)].append(row)
    return groups


def _nested(session: Session, kind: Kind, nested: Nested, slugs: Slugs) -> dict[int, list[dict[str, Any]]]:
    """Parent id -> the content items of one nested list, in order."""
    item = item_model(kind.content_record_class, nested.name)
    groups = _grouped(session, nested.table, parent_key(kind))
    return {
        parent: [from_columns(row, item, nested.columns, set(), slugs) for row in rows]
        for parent, rows in groups.items()
    }


def _records(session: Session, kind: Kind, rows: dict[int, SQLModel], slugs: Slugs) -> list[dict[str, Any]]:
    record = kind.content_record_class
    nested = {n.name: _nested(session, kind, n, slugs) for n in kind.nested}
    return [
        {
            **from_columns(row, record, {}, set(nested), slugs),
            **{name: items.get(row_id, []) for name, items in nested.items()},
        }
        for row_id, row in rows.items()
    ]


def export_dataset(session: Session) -> Dataset:
    """Everything in the store as a validated Dataset, records in insertion order."""
    rows = {kind.name: _by_id(session, kind.table) for kind in KINDS_IN_LOAD_ORDER}
    slugs = Slugs(rows)
    raw = {kind.name: _records(session, kind, rows[kind.name], slugs) for kind in KINDS_IN_LOAD_ORDER}
    return Dataset.model_validate(raw)
