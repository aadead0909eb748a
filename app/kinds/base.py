"""What a kind of record is made of: one :class:`Kind` per collection, declared once in ``app/kinds/<kind>.py``.

From a kind's declaration the rest is derived: its ``/v1`` list and detail routes (parameters, sort enum,
documented responses), its part of the read model (represented once, sorted, filtered in memory), its
search documents, its OpenAPI tag, and how its content records are loaded into its table and exported back
(app/content/rows.py: by field name, with the ``nested`` tables it declares). No HTTP and no session here: a representer receives a session only
when the read model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlmodel import Session, SQLModel

#: One represented record: a dict in a fixed key order (the JSON the API serves).
Record = dict[str, Any]
#: Every kind's records by collection name, in slug order (what cross-kind builders may look at).
Records = Mapping[str, Sequence[Record]]
SortValue = str | int | datetime
SortType = Literal["str", "int", "datetime"]


@dataclass(frozen=True, slots=True)
class SortField:
    """A field a list can be sorted by: its name, how its value is read from a record, and its type."""

    name: str
    value: Callable[[Record], SortValue]
    type: SortType = "str"


@dataclass(frozen=True, slots=True)
class Filter:
    """A list filter: a documented query parameter and the predicate it applies to each record.

    ``annotation`` is the parameter's type as FastAPI reads it (``Annotated[X | None, Query(...)]``);
    ``match(record, value, params)`` gets every filter value of the request in ``params`` (``code`` reads
    ``code_system``); a parameter whose ``match`` is None only modifies another (it filters nothing alone).
    """

    name: str
    annotation: Any
    match: Callable[[Record, Any, Mapping[str, Any]], bool] | None


@dataclass(frozen=True, slots=True)
class SearchSource:
    """What the search index needs of one record: its title, labels, codes and body lines, and the
    ``(name, synonyms)`` pairs whose abbreviations the index may expand. Built by each kind from its
    represented record; the index itself belongs to app/services/search.py."""

    kind: str
    slug: str
    title: str
    labels: tuple[str, ...]
    codes: tuple[str, ...]
    body: tuple[str, ...]
    abbreviations: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Nested:
    """A list field of a content record whose items are stored as rows of their own table, e.g. a regimen's
    ``dose_ranges``: one row per item, keyed by ``<parent table>_id`` and kept in order by ``ordinal``, its
    fields mapped by the rules of app/content/rows.py. ``columns`` names a column that differs from its
    field (``{"min": "min_value"}``)."""

    name: str
    table: type[SQLModel]
    columns: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of record, declared once."""

    name: str  # the collection: path segment under /v1 and /pages, OpenAPI tag, search kind
    order: int  # place in the docs, the tags and every list of kinds (ascending)
    singular: str  # e.g. "regimen": operationIds (getRegimen), not-found messages
    table: type[SQLModel]  # the SQLModel table of the aggregate root
    content_record: str  # the reviewable YAML record: a class of app/content/schema.py, imported on use
    record_model: type[BaseModel]  # the public shape of one record (app/schemas/<kind>.py)
    list_model: type[BaseModel]  # the public shape of a page
    response_model: type[BaseModel]  # the public shape of a single-record answer
    tag_description: str
    list_summary: str
    list_description: str
    get_summary: str
    get_description: str
    represent: Callable[[Session], list[Record]]  # every record of the kind, represented, in slug order
    search_source: Callable[[Record, Records], SearchSource]
    sort_fields: tuple[SortField, ...]
    filters: tuple[Filter, ...] = ()
    nested: tuple[Nested, ...] = ()  # list fields of the content record kept in tables of their own
    example_slug: str = ""  # the record shown in the docs' single-record example (empty: the first)
    sort_enum: type[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from app.kinds.sorting import sort_enum  # an enum class per kind, named e.g. RegimenSort

        object.__setattr__(self, "sort_enum", sort_enum(self))

    @property
    def content_record_class(self) -> type[BaseModel]:
        """The content record's class (imported here, not at start: a restart needs no content schema)."""
        from app.content import schema

        record: type[BaseModel] = getattr(schema, self.content_record)
        return record

    @property
    def operation_suffix(self) -> str:
        return self.singular.title().replace(" ", "")

    def sort_field(self, name: str) -> SortField:
        return next(f for f in self.sort_fields if f.name == name)


def timestamp(value: str | None) -> datetime:
    """An ISO 8601 timestamp of a record (UTC; naive means UTC) as an aware datetime."""
    if not value:
        return datetime.min.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def slug_field() -> SortField:
    return SortField("slug", lambda r: str(r["slug"]))


def text_field(name: str) -> SortField:
    return SortField(name, lambda r: str(r.get(name) or ""))


def updated_at_field() -> SortField:
    return SortField("updated_at", lambda r: timestamp(r.get("updated_at")), "datetime")


def lines(*values: str | None) -> tuple[str, ...]:
    """Non-empty, stripped text lines (for search bodies)."""
    return tuple(v.strip() for v in values if v and v.strip())


def identifiers_line(values: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{str(i.get('system', '')).upper()} {i.get('value', '')}" for i in values)


def equals(*path: str) -> Callable[[Record, Any, Mapping[str, Any]], bool]:
    """A predicate: the record's value at ``path`` (keys into nested objects) equals the parameter."""

    def match(record: Record, value: Any, _params: Mapping[str, Any]) -> bool:
        current: Any = record
        for key in path:
            if not isinstance(current, dict):
                return False
            current = current.get(key)
        return bool(current == value)

    return match
