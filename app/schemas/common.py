"""Shapes shared by every /v1 resource: envelopes' meta and links, identifiers, source citations.

These models document the JSON the services build (the routes send prebuilt bytes, so the models are
not used to serialise); a test validates real responses against them. ``extra="forbid"`` makes that
test fail when a service adds a field that the models do not document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.vocabulary import SourceKind, Verification
from app.schemas.examples import example_if_any


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Meta(Schema):
    """What every response carries about the dataset."""

    disclaimer: str = Field(description="Reference information, not medical advice: the full wording.")
    licence: str = Field(description="Licence of the code and curated records.")
    dataset_version: int = Field(description="Content version of the dataset; increases with every content load.")
    last_updated: datetime | None = Field(description="When the dataset last changed (ISO 8601, UTC).")


class ListMeta(Meta):
    """Meta of a list: the dataset's, plus paging counts."""

    total: int = Field(description="Items matching the filters, over all pages.")
    count: int = Field(description="Items on this page.")
    limit: int = Field(description="Page size used for this page.")


class Links(Schema):
    """Paging links (absolute URLs); ``next`` is repeated in the ``Link: <...>; rel="next"`` header."""

    self: str = Field(description="This page.")
    next: str | None = Field(description="The next page, or null on the last page.")


class Identifier(Schema):
    """An external identifier with its verification status."""

    system: str = Field(
        description="Identifier system: pmid, doi, pmcid, nct, url, nda, rxnorm, unii, atc, drugbank, cas, chebi, "
        "pubchem, uniprot or hgnc.",
        examples=["rxnorm"],
    )
    value: str = Field(description="The identifier as the system writes it.", examples=["7243"])
    verification: Verification = Field(
        description="primary: checked in the primary record; secondary: from a secondary source; "
        "article-claim: only the seed article says so."
    )
    note: str | None = Field(default=None, description="What the identifier denotes, or a caveat (absent if none).")


class SourceCitation(Schema):
    """The compact form of a source embedded in other records (the full record: GET /v1/sources/{slug})."""

    slug: str = Field(description="The source's slug.")
    kind: SourceKind = Field(description="Kind of source.")
    title: str = Field(description="Title as published.")
    authors: str | None = Field(description="Authors as cited, or null when not recorded.")
    journal: str | None = Field(description="Journal abbreviation, or null.")
    year: int | None = Field(description="Year of publication, or null.")
    url: str | None = Field(description="A stable URL (DOI resolver, PubMed), or null.")
    verification: Verification = Field(description="How the source itself was verified.")


class Recorded(Schema):
    """Bookkeeping fields of every curated record."""

    version: int = Field(description="Increments on every change of the record.")
    created_at: datetime = Field(description="When the record was first loaded (ISO 8601, UTC).")
    updated_at: datetime = Field(description="When the record last changed (ISO 8601, UTC).")


class Summaries(Schema):
    """The two audiences' texts."""

    clinical_summary: str = Field(description="For clinicians, written from the sources.")
    plain_summary: str = Field(description="Plain language for patient pages.")


class DrugRef(Schema):
    """A drug named by slug."""

    slug: str = Field(description="The drug's slug.", examples=["naltrexone"])
    name: str = Field(description="The drug's name.")


def list_item_schema(schema: dict[str, Any]) -> None:
    """JSON Schema of a list item: the record's own (every field present and required), without repeating the
    record's examples. A page asked with ``fields=`` has its own shape, :class:`SparseList`."""
    schema.pop("examples", None)
    schema["description"] = (
        schema.get("description", "").strip()
        + " In a list every field is present; a page asked with `fields=` has the shape `SparseList` instead."
    )


def _examples(name: str, key: str | None = None) -> ConfigDict:
    """A model config showing the real example ``name`` (its ``key`` part), if examples.json has it yet."""
    found = example_if_any(name)
    if found is None:
        return ConfigDict()
    return ConfigDict(json_schema_extra={"examples": [found[key] if key else found]})


def record_examples(singular: str) -> ConfigDict:
    """The config of a record shape: its real example (the ``data`` of the ``<singular>`` example)."""
    return _examples(singular, "data")


def envelopes(record: type[Schema], singular: str, plural: str) -> tuple[type[Schema], type[Schema], type[Schema]]:
    """The generic list and record envelopes of a record shape, named after it: ``<Record>ListItem``,
    ``<Record>List`` (``{data, meta, links}``) and ``<Record>Response`` (``{data, meta}``), with the real
    examples ``<singular>_list`` and ``<singular>`` (app/schemas/examples.json)."""
    name = record.__name__

    def model(class_name: str, bases: tuple[type[Schema], ...], doc: str, namespace: dict[str, Any]) -> type[Schema]:
        created: type[Schema] = type(
            class_name,
            bases,
            {"__doc__": doc, "__module__": record.__module__, "__qualname__": class_name, **namespace},
        )
        return created

    item = model(
        f"{name}ListItem",
        (record,),
        f"{name} as a list item (every field).",
        {"model_config": ConfigDict(json_schema_extra=list_item_schema)},
    )
    page = model(
        f"{name}List",
        (Schema,),
        f"A page of {plural}.",
        {
            "model_config": _examples(f"{singular}_list"),
            "__annotations__": {"data": list[item], "meta": ListMeta, "links": Links},  # type: ignore[valid-type]
            "data": Field(description=f"The {plural} on this page."),
            "meta": Field(description="Dataset metadata and paging counts."),
            "links": Field(description="Paging links."),
        },
    )
    one = model(
        f"{name}Response",
        (Schema,),
        f"One {singular}.",
        {
            "model_config": _examples(singular),
            "__annotations__": {"data": record, "meta": Meta},
            "data": Field(description=f"The {singular}."),
            "meta": Field(description="Dataset metadata."),
        },
    )
    return item, page, one


class SparseList(Schema):
    """A page of any list asked with `fields=` (a sparse fieldset): each item has only the top-level fields
    named, in the order named. Without `fields=`, a list answers its full documented shape (e.g. `DrugList`)."""

    data: list[dict[str, Any]] = Field(
        description="The items on this page, each with only the fields named in `fields=` (any of the full item's "
        "top-level fields, with the same types)."
    )
    meta: ListMeta = Field(description="Dataset metadata and paging counts.")
    links: Links = Field(description="Paging links.")
