"""The bulk export: every record of one content version as NDJSON per kind (gzip), with a manifest.

Built from the read model (the same bytes /v1 serves: one record's JSON a line, in slug order), once per
content version and app: :class:`BulkExport` holds the newest. gzip with a fixed mtime, so the same
content gives the same bytes, sha256 and ETag on every instance.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlmodel import SQLModel

from app.readmodel.model import ReadModel


@dataclass(frozen=True, slots=True)
class ExportedKind:
    kind: str
    gz: bytes
    count: int
    sha256: str
    ndjson_sha256: str


@dataclass(frozen=True, slots=True)
class Export:
    key: tuple[Any, ...]
    files: dict[str, ExportedKind]


def ndjson(model: ReadModel, kind: str) -> bytes:
    lines = model.collection(kind).item_json
    return b"".join(line + b"\n" for line in lines)


def build_export(model: ReadModel) -> Export:
    files: dict[str, ExportedKind] = {}
    for kind in model.collections:
        raw = ndjson(model, kind)
        gz = gzip.compress(raw, compresslevel=9, mtime=0)
        files[kind] = ExportedKind(
            kind,
            gz,
            len(model.collection(kind).records),
            hashlib.sha256(gz).hexdigest(),
            hashlib.sha256(raw).hexdigest(),
        )
    return Export(model.key, files)


class BulkExport:
    """The export of the newest content version this app served (built on first use, per version)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Export | None = None

    def of(self, model: ReadModel) -> Export:
        current = self._current
        if current is not None and current.key == model.key:
            return current
        with self._lock:
            current = self._current
            if current is None or current.key != model.key:
                current = self._current = build_export(model)
            return current


def manifest(model: ReadModel, export: Export, base: str | None) -> dict[str, Any]:
    """The manifest of ``export``: each file's URL under ``base`` (``None``: the bare file name, as in the
    folder ``ldn-kb export-bulk`` writes)."""
    info = model.info
    return {
        "content_version": info.content_version,
        "content_hash": info.content_hash,
        "last_updated": model.meta["last_updated"],
        "files": [
            {
                "kind": f.kind,
                "url": f"{f.kind}.ndjson.gz" if base is None else f"{base}/v1/export/{f.kind}.ndjson.gz",
                "count": f.count,
                "bytes": len(f.gz),
                "sha256": f.sha256,
                "ndjson_sha256": f.ndjson_sha256,
            }
            for f in export.files.values()
        ],
    }


# --- the SQLite file of the current version (as Datasette offers) ------------------------------------------

SQLITE_NAME = "ldn-kb.sqlite3"
SQLITE_MEDIA_TYPE = "application/vnd.sqlite3"


def write_sqlite_snapshot(engine: Engine, path: Path) -> None:
    """A consistent SQLite copy of the store at ``path`` (replaced if present): every table copied, rows in
    primary-key order, into a freshly migrated SQLite file, so the file's bytes follow from the rows alone
    (two stores with the same rows, such as a bulk import and its source, serve the same file and SHA-256).
    The rows are read from one snapshot: from SQLite, a ``VACUUM INTO`` copy taken first; from PostgreSQL,
    one read-only repeatable-read transaction."""
    from app.db import make_engine
    from app.settings import Settings

    path.unlink(missing_ok=True)
    if engine.dialect.name != "sqlite":
        _copy_tables(engine, path)
        return
    raw = path.with_name(path.name + ".raw")
    raw.unlink(missing_ok=True)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM INTO ?", (str(raw),))
        source = make_engine(Settings(database_url=f"sqlite:///{raw}"))
        try:
            _copy_tables(source, path)
        finally:
            source.dispose()
    finally:
        for leftover in (raw, raw.with_name(raw.name + "-wal"), raw.with_name(raw.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _copy_tables(engine: Engine, path: Path) -> None:
    import app.models  # noqa: F401  (registers every table)
    from app import migrate
    from app.db import make_engine
    from app.settings import Settings

    target = make_engine(Settings(database_url=f"sqlite:///{path}"))
    try:
        migrate.upgrade(target)
        with engine.connect() as src, target.begin() as dst:
            if src.dialect.name == "postgresql":
                src.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for table in SQLModel.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                rows = [dict(r) for r in src.execute(query).mappings()]
                if rows:
                    dst.execute(insert(table), rows)
            src.rollback()
        with target.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    finally:
        target.dispose()


@dataclass(frozen=True, slots=True)
class SqliteFile:
    key: tuple[Any, ...]
    path: Path
    sha256: str
    size: int


class SqliteSnapshots:
    """One SQLite file per content version and app, in a private temporary folder (the older one removed);
    :meth:`close` removes the folder (at shutdown)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._current: SqliteFile | None = None

    def of(self, engine: Engine, model: ReadModel) -> SqliteFile:
        current = self._current
        if current is not None and current.key == model.key and current.path.exists():
            return current
        with self._lock:
            current = self._current
            if current is not None and current.key == model.key and current.path.exists():
                return current
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="ldnkb-export-"))
            path = self._folder / f"v{model.info.content_version}-{SQLITE_NAME}"
            partial = path.with_suffix(".partial")
            write_sqlite_snapshot(engine, partial)
            partial.replace(path)
            digest = hashlib.sha256()
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            made = SqliteFile(model.key, path, digest.hexdigest(), path.stat().st_size)
            if current is not None and current.path != path:
                current.path.unlink(missing_ok=True)
            self._current = made
            return made

    def close(self) -> None:
        with self._lock:
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = self._current = None


def sqlite_entry(file: SqliteFile, base: str) -> dict[str, Any]:
    return {
        "kind": "sqlite",
        "url": f"{base}/v1/export/{SQLITE_NAME}",
        "media_type": SQLITE_MEDIA_TYPE,
        "bytes": file.size,
        "sha256": file.sha256,
    }
