"""Public shapes of the changes feed, record revisions and the bulk export manifest."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.schemas.common import Links, Meta, Schema


class ChangeLinks(Schema):
    self: str = Field(description="The record in the JSON API (path).")
    page: str = Field(description="The record's page for people (path).")


class Change(Schema):
    """One record created, updated or deleted by a content load."""

    content_version: int = Field(description="The content version whose load made this change.")
    kind: str = Field(description="The collection, e.g. `regimens`.")
    slug: str = Field(description="The record's slug.")
    change: Literal["create", "update", "delete"] = Field(description="What happened to the record.")
    etag: str | None = Field(
        description="Strong ETag of the record's new representation (its `data` in the detail answer and its "
        "line in the bulk export); null for a delete."
    )
    changed_at: datetime = Field(description="When the load ran (ISO 8601, UTC).")
    links: ChangeLinks | None = Field(default=None, description="Where the record is now (absent for a delete).")


class ChangesMeta(Meta):
    count: int = Field(description="Changes on this page.")
    limit: int = Field(description="Page size used for this page.")
    latest_version: int = Field(description="The content version of the newest change in the feed.")


class ChangeList(Schema):
    """A page of the changes feed, oldest first."""

    data: list[Change]
    meta: ChangesMeta
    links: Links


class RevisionSummary(Schema):
    version: int = Field(description="The record's own version (1 when created; a delete is the last).")
    change: Literal["create", "update", "delete"]
    changed_at: datetime


class RevisionList(Schema):
    """Every revision of one record, oldest first."""

    data: list[RevisionSummary]
    meta: Meta


class RevisionDetail(RevisionSummary):
    record: dict[str, Any] | None = Field(
        description="The record as the curated content held it at this revision (the reviewable YAML record; "
        "null for a delete)."
    )


class RevisionResponse(Schema):
    data: RevisionDetail
    meta: Meta


class ExportFile(Schema):
    kind: str = Field(description="The collection.")
    url: str = Field(description="Absolute URL of the gzip-compressed NDJSON file.")
    count: int = Field(description="Records (lines) in the file.")
    bytes: int = Field(description="Size of the gzip file.")
    sha256: str = Field(description="SHA-256 of the gzip file, hex.")
    ndjson_sha256: str = Field(description="SHA-256 of the uncompressed NDJSON, hex.")


class ExportSqlite(Schema):
    kind: Literal["sqlite"] = Field(description="Always `sqlite`.")
    url: str = Field(description="Absolute URL of the SQLite file of this content version.")
    media_type: str = Field(description="`application/vnd.sqlite3`.")
    bytes: int = Field(description="Size of the file.")
    sha256: str = Field(description="SHA-256 of the file, hex.")


class ExportManifest(Schema):
    """The whole dataset of one content version, one NDJSON file per kind, and the store as one SQLite file."""

    content_version: int
    content_hash: str = Field(description="Hash of the curated content this version was loaded from.")
    last_updated: datetime | None
    files: list[ExportFile]
    sqlite: ExportSqlite = Field(
        description="The whole store of this version as one SQLite file (as Datasette offers)."
    )


class ExportManifestResponse(Schema):
    data: ExportManifest
    meta: Meta
