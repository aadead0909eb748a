"""Alembic environment: the URL comes from the caller's config or from LDNKB_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.db import make_engine
from app.settings import Settings

config = context.config
target_metadata = SQLModel.metadata

# Search-index objects the migration creates outside the models (see s1search00001): the SQLite FTS5
# table and its shadow tables, the PostgreSQL tsvector column and its GIN index.
SEARCH_ENGINE_OBJECTS = {("column", "search_vector"), ("index", "ix_search_document_search_vector")}


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    if type_ == "table" and name is not None and (name == "search_fts" or name.startswith("search_fts_")):
        return False
    return (type_, name) not in SEARCH_ENGINE_OBJECTS


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    settings = Settings(database_url=url) if url else Settings()
    engine = make_engine(settings)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
