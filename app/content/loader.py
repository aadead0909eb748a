"""Load the curated dataset into the store, idempotently.

Each record's curated fields are hashed; an unchanged record is left alone, a changed one is updated
in place (its child rows replaced), its version incremented and a revision written. Records that left
the dataset are deleted, with a revision. Any change bumps the dataset's content version, which every
cached representation is keyed on. The whole load is one transaction: a bad dataset changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel, col

from app.content.rows import KINDS_IN_LOAD_ORDER, ContentError, Refs, parent_key, slugged_nested, to_columns
from app.content.schema import Dataset
from app.kinds.base import Kind
from app.models.common import RecordBase, utcnow
from app.models.revision import DatasetState, RecordChange, Revision
from app.services.search import rebuild_search_index

__all__ = ["ContentError", "LoadReport", "dataset_hash", "load_dataset", "record_hash"]


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    content_version: int = 0

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values()) or any(self.deleted.values())


def record_hash(record: BaseModel) -> str:
    payload = orjson.dumps(record.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def dataset_hash(dataset: Dataset) -> str:
    payload = orjson.dumps(dataset.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def _records(dataset: Dataset, kind: Kind) -> list[Any]:
    """The kind's content records (each a BaseModel with a ``slug``)."""
    records: list[Any] = getattr(dataset, kind.name)
    return records


def _check_lengths(model: type[SQLModel], where: str, values: dict[str, Any]) -> None:
    """Refuse a value longer than its column, on every store alike (SQLite would not check)."""
    columns = model.__table__.columns  # type: ignore[attr-defined]
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None) if name in columns else None
        if length is not None and isinstance(value, str) and len(value) > length:
            raise ContentError(f"{where}: {name} is {len(value)} characters, at most {length} fit")


def _check_unique(dataset: Dataset) -> None:
    """Slugs are unique within a kind; nested records' slugs (dose ranges, ...) across the whole dataset."""
    nested = {kind.name: slugged_nested(kind) for kind in KINDS_IN_LOAD_ORDER}
    children: set[str] = set()
    for kind in KINDS_IN_LOAD_ORDER:
        seen: set[str] = set()
        for record in _records(dataset, kind):
            slug: str = record.slug
            if slug in seen:
                raise ContentError(f"{kind.name}: duplicate slug '{slug}'")
            seen.add(slug)
            for name in nested[kind.name]:
                for child in getattr(record, name):
                    if child.slug in children:
                        names = ", ".join(n.replace("_", " ") for fields in nested.values() for n in fields)
                        raise ContentError(f"duplicate child slug '{child.slug}' ({names})")
                    children.add(child.slug)


def _revision(session: Session, kind: str, slug: str, version: int, change: str, snapshot: dict[str, Any]) -> None:
    session.add(Revision(record_kind=kind, slug=slug, version=version, change=change, snapshot=snapshot))


def _delete_nested(session: Session, kind: Kind, parent_ids: list[int]) -> None:
    """Delete the nested rows of these records (in chunks: a store bounds the parameters of a statement)."""
    for nested in kind.nested:
        column = getattr(nested.table, parent_key(kind))
        for start in range(0, len(parent_ids), 500):
            session.execute(delete(nested.table).where(column.in_(parent_ids[start : start + 500])))
    session.flush()


def _add_nested(session: Session, kind: Kind, parent_id: int, record: Any, refs: Refs) -> None:
    """The rows of a record's nested lists (its old ones deleted before), in order."""
    where = f"{kind.singular} {record.slug}"
    for nested in kind.nested:
        for ordinal, item in enumerate(getattr(record, nested.name)):
            slug = getattr(item, "slug", None)
            at = f"{where} {nested.name}" + (f" {slug}" if slug else f" #{ordinal + 1}")
            values = to_columns(item, nested.columns, set(), refs, at)
            _check_lengths(nested.table, at, values)
            if slug is not None:
                values.update(slug=slug, content_hash=record_hash(item))
            session.add(nested.table(**{parent_key(kind): parent_id, "ordinal": ordinal, **values}))


def load_dataset(session: Session, dataset: Dataset) -> LoadReport:
    """Bring the store in line with ``dataset`` in one transaction; return what changed."""
    _check_unique(dataset)
    report = LoadReport()
    refs = Refs()
    now: datetime = utcnow()
    changed: list[tuple[Kind, int, Any]] = []
    for kind in KINDS_IN_LOAD_ORDER:
        model = _table(kind)
        nested = {n.name for n in kind.nested}
        existing = {row.slug: row for row in session.scalars(select(model)).all()}
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for record in _records(dataset, kind):
            slug: str = record.slug
            digest = record_hash(record)
            row = existing.get(slug)
            if row is not None and row.content_hash == digest:
                counts["unchanged"] += 1
                assert row.id is not None
                refs.ids[kind.name][slug] = row.id
                continue
            values = to_columns(record, {}, nested, refs, f"{kind.singular} {slug}")
            _check_lengths(model, f"{kind.name} '{slug}'", values)
            if row is None:
                row = model(slug=slug, content_hash=digest, created_at=now, updated_at=now, **values)
                session.add(row)
                change = "create"
            else:
                for name, value in values.items():
                    setattr(row, name, value)
                row.content_hash = digest
                row.version += 1
                row.updated_at = now
                change = "update"
            session.flush()
            assert row.id is not None
            refs.ids[kind.name][slug] = row.id
            changed.append((kind, row.id, record))
            _revision(session, kind.name, slug, row.version, change, record.model_dump(mode="json"))
            counts["created" if change == "create" else "updated"] += 1
        report.created[kind.name] = counts["created"]
        report.updated[kind.name] = counts["updated"]
        report.unchanged[kind.name] = counts["unchanged"]
    # Nested rows last, once every record has its id (an approval of a drug points at a regimen): first the
    # old rows of every changed record go, then the new ones come (a child slug may move between records).
    for kind in KINDS_IN_LOAD_ORDER:
        _delete_nested(session, kind, [row_id for k, row_id, _record in changed if k is kind])
    for kind, row_id, record in changed:
        _add_nested(session, kind, row_id, record, refs)
    session.flush()
    _delete_missing(session, dataset, report)
    rebuild_search_index(session)
    state = session.get(DatasetState, 1)
    if state is None:
        state = DatasetState(id=1, content_version=0)
        session.add(state)
    if report.changed or state.content_version == 0:
        state.content_version += 1
        state.content_hash = dataset_hash(dataset)
        state.last_updated = now
    report.content_version = state.content_version
    if report.changed or not _feed_started(session):
        # Imported here: a restart on a loaded store needs neither the feed nor the representers.
        from app.services.changes import log_changes

        session.flush()
        log_changes(session, state.content_version, now)
    session.commit()
    return report


def _feed_started(session: Session) -> bool:
    """Whether the changes feed holds any line (a store loaded before the feed existed has none)."""
    return session.scalars(select(col(RecordChange.id)).limit(1)).first() is not None


def _delete_missing(session: Session, dataset: Dataset, report: LoadReport) -> None:
    """Delete records that left the dataset, dependants first."""
    for kind in reversed(KINDS_IN_LOAD_ORDER):
        keep = {r.slug for r in _records(dataset, kind)}
        gone = [row for row in session.scalars(select(_table(kind))).all() if row.slug not in keep]
        _delete_nested(session, kind, [row.id for row in gone if row.id is not None])
        for row in gone:
            _revision(session, kind.name, row.slug, row.version + 1, "delete", {})
            session.delete(row)
        report.deleted[kind.name] = len(gone)
        session.flush()


def _table(kind: Kind) -> type[RecordBase]:
    """The kind's table: a record table (slug, version, content hash and times), as every kind's is."""
    table = kind.table
    assert issubclass(table, RecordBase), kind.name
    return table
