"""How a kind's content records map onto its table rows and back, read off the kind's declaration
(app/kinds/) and its content record class (app/content/schema.py): the loader and the exporter hold no
per-kind code.

For each field of a content record (and, alike, of an item of a nested list):

* ``slug`` is the row's slug;
* a field named as a kind's singular (``drug``, ``source``, ``regimen``, ...) is a reference by slug, stored
  as the id column ``<field>_id`` (null when the field is);
* a field the kind declares :class:`~app.kinds.base.Nested` (``dose_ranges``) is stored as rows of that
  table, one per item, keyed by ``<parent table>_id`` and ``ordinal``;
* any other field is the column of its name (or as the declaration renames it); a list of records is kept
  as JSON, each item without its empty fields, and references at any depth of it must resolve.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel
from sqlmodel import SQLModel

from app.content.schema import KINDS as LOAD_ORDER
from app.kinds import BY_NAME
from app.kinds.base import Kind

#: Every kind in load order (the Dataset's field order): a kind only points at kinds before it.
KINDS_IN_LOAD_ORDER: tuple[Kind, ...] = tuple(BY_NAME[name] for name in LOAD_ORDER)
#: The field name that references a kind (its singular) -> the kind's collection name.
REFERENCES: dict[str, str] = {kind.singular: kind.name for kind in KINDS_IN_LOAD_ORDER}


class ContentError(ValueError):
    """The dataset is inconsistent (a dangling reference, a duplicate slug, a value too long)."""


class Refs:
    """slug -> id per kind, filled while loading, for resolving references."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, int]] = {kind.name: {} for kind in KINDS_IN_LOAD_ORDER}

    def get(self, kind: str, slug: str, where: str) -> int:
        try:
            return self.ids[kind][slug]
        except KeyError:
            raise ContentError(f"{where}: unknown {BY_NAME[kind].singular} '{slug}'") from None


class Slugs:
    """id -> slug per kind, for writing references back as slugs."""

    def __init__(self, rows: Mapping[str, Mapping[int, Any]]) -> None:
        self.slugs = {kind: {i: row.slug for i, row in by_id.items()} for kind, by_id in rows.items()}

    def get(self, kind: str, row_id: int | None) -> str | None:
        return None if row_id is None else self.slugs[kind][row_id]


def item_model(record: type[BaseModel], name: str) -> type[BaseModel]:
    """The record class of the items of the list field ``name`` (``dose_ranges`` -> DoseRangeRecord)."""
    (item,) = typing.get_args(record.model_fields[name].annotation)
    assert isinstance(item, type) and issubclass(item, BaseModel), (record, name)
    return item


def parent_key(kind: Kind) -> str:
    """The column of a nested row that holds its parent's id (``regimen_id``)."""
    return f"{kind.table.__tablename__}_id"


def slugged_nested(kind: Kind) -> tuple[str, ...]:
    """The nested list fields whose items have slugs of their own (unique across the whole dataset)."""
    record = kind.content_record_class
    return tuple(n.name for n in kind.nested if "slug" in item_model(record, n.name).model_fields)


def to_columns(record: BaseModel, columns: Mapping[str, str], skip: set[str], refs: Refs, where: str) -> dict[str, Any]:
    """The column values of one content record (its ``slug`` and the ``skip`` fields left out)."""
    values: dict[str, Any] = {}
    for name in type(record).model_fields:
        if name == "slug" or name in skip:
            continue
        value = getattr(record, name)
        if name in REFERENCES:
            values[f"{name}_id"] = None if value is None else refs.get(REFERENCES[name], value, where)
        elif isinstance(value, list):
            items = [v.model_dump(mode="json", exclude_none=True) if isinstance(v, BaseModel) else v for v in value]
            for reference_kind, slug in _references(items):
                refs.get(reference_kind, slug, f"{where} {name}")
            values[columns.get(name, name)] = items
        else:
            values[columns.get(name, name)] = value
    return values


def from_columns(
    row: SQLModel, record: type[BaseModel], columns: Mapping[str, str], skip: set[str], slugs: Slugs
) -> dict[str, Any]:
    """The content fields of one row (the ``skip`` fields left out), empty ones left out."""
    values: dict[str, Any] = {}
    for name in record.model_fields:
        if name in skip:
            continue
        if name in REFERENCES:
            value = slugs.get(REFERENCES[name], getattr(row, f"{name}_id"))
        else:
            value = getattr(row, columns.get(name, name), None)
        if value is not None:
            values[name] = value
    return values


def _references(value: Any) -> Iterator[tuple[str, str]]:
    """``(kind, slug)`` of every reference at any depth of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in REFERENCES and isinstance(item, str):
                yield REFERENCES[key], item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)
