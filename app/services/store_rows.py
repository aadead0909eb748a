"""The store's own rows, table by table, as NDJSON lines: what a bulk import needs to rebuild a store whose
every answer is identical (records, ETags, content version, revisions, changes feed, ``updated_at``).

The per-kind NDJSON files hold the records as /v1 serves them: embedded neighbours, display texts, no row
ids, no content hashes, no revision snapshots; rebuilding the tables from them would mean inventing what
they leave out. So the bulk export carries the rows themselves, one line a row
(``{"table": ..., "row": {...}}``), tables in foreign-key order, rows in primary-key order. Values are
written so that SQLite and PostgreSQL read them back alike: timestamps as ISO 8601 in UTC, fixed-point
numbers as decimal strings, JSON columns as they are stored (key order kept).

Operational tables are left out: CDS Hooks feedback and used JWT ids belong to one deployment, not to
the dataset (and feedback may say who clicked what).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, DateTime, Numeric, Table, delete, insert, select, text
from sqlmodel import SQLModel

OPERATIONAL_TABLES = frozenset({"cds_feedback", "used_jwt_id"})
BATCH = 500


def content_tables() -> list[Table]:
    """The tables a bulk export copies, parents before children."""
    import app.models  # noqa: F401  (registers every table)

    return [t for t in SQLModel.metadata.sorted_tables if t.name not in OPERATIONAL_TABLES]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite keeps UTC, naive
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decoder(table: Table) -> dict[str, type]:
    kinds: dict[str, type] = {}
    for column in table.columns:
        if isinstance(column.type, DateTime):
            kinds[column.name] = datetime
        elif isinstance(column.type, Numeric):
            kinds[column.name] = Decimal
    return kinds


def _decode(row: dict[str, Any], kinds: dict[str, type]) -> dict[str, Any]:
    out = dict(row)
    for name, kind in kinds.items():
        value = out.get(name)
        if value is None:
            continue
        out[name] = datetime.fromisoformat(value) if kind is datetime else Decimal(value)
    return out


def dump_lines(connection: Connection) -> Iterator[bytes]:
    """Every row of every content table as one NDJSON line (newline included)."""
    for table in content_tables():
        order = list(table.primary_key.columns)
        for row in connection.execute(select(table).order_by(*order)).mappings():
            encoded = {name: _encode(value) for name, value in row.items()}
            yield orjson.dumps({"table": table.name, "row": encoded}) + b"\n"


def parse_lines(lines: Iterable[bytes]) -> dict[str, list[dict[str, Any]]]:
    """The rows per table of :func:`dump_lines`' output (ValueError on a line that is not one of its lines)."""
    known = {t.name: _decoder(t) for t in content_tables()}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in known}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item = orjson.loads(line)
        if not isinstance(item, dict) or item.get("table") not in known or not isinstance(item.get("row"), dict):
            raise ValueError(f"line {number}: not a row of a known table")
        rows[item["table"]].append(_decode(item["row"], known[item["table"]]))
    return rows


def is_empty(connection: Connection) -> bool:
    return all(connection.execute(select(t).limit(1)).first() is None for t in content_tables())


def clear(connection: Connection) -> None:
    """Delete every content row (children first), inside the caller's transaction."""
    for table in reversed(content_tables()):
        connection.execute(delete(table))


def insert_rows(connection: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the rows (parents first) with their own primary keys, inside the caller's transaction; on
    PostgreSQL, move each id sequence past the highest id, so the next content load appends."""
    for table in content_tables():
        batch = rows.get(table.name, [])
        for start in range(0, len(batch), BATCH):
            connection.execute(insert(table), batch[start : start + BATCH])
    if connection.dialect.name == "postgresql":
        for table in content_tables():
            if "id" not in table.primary_key.columns:
                continue
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table.name}"'
                )
            )
