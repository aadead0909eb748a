"""The search index: one row per searchable record, rebuilt from the curated records on every load.

The engines index ``terms`` only (SQLite: the FTS5 table ``search_fts``; PostgreSQL: the generated
``search_vector`` column with a GIN index). Both are created by the migration, not declared here, and
migrations/env.py keeps Alembic's autogenerate from seeing them.
"""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class SearchDocument(SQLModel, table=True):
    __tablename__ = "search_document"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True, description="The API collection: conditions, targets, ...")
    slug: str = Field(max_length=120)
    title: str
    labels: str = Field(default="", description="Name, synonyms, abbreviations and slug, one a line.")
    codes: str = Field(default="", description="The record's own codes (ICD-10-CM, SNOMED CT), space-separated.")
    body: str = Field(default="", description="The text snippets are taken from, one field a line.")
    terms: str = Field(default="", description="Normalised tokens, space-separated: what the engines index.")
