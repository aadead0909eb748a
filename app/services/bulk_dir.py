"""A bulk export in a folder, and its import into another store (``ldn-kb export-bulk`` / ``import-bulk``).

The folder holds what ``GET /v1/export`` lists (``manifest.json``, one ``{kind}.ndjson.gz`` per kind, the
same bytes and SHA-256s) plus ``store.ndjson.gz``: the store's own rows (app/services/store_rows.py),
listed in the manifest under ``store``. The records' NDJSON cannot rebuild the tables on its own (it
holds representations, not rows); the rows can, and the import checks that they represent exactly the
NDJSON files before it commits.

The import verifies every file against the manifest before it touches the store, then writes in one
transaction: a store that already holds content is refused unless ``replace`` is asked for, and then it
is emptied and filled in that same transaction, so a failure leaves it as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.services import store_rows
from app.services.export import build_export, manifest

MANIFEST = "manifest.json"
STORE_FILE = "store.ndjson.gz"
ATTEMPTS = 5


class BulkError(Exception):
    """A bulk folder that cannot be written or imported; the message says why and what was (not) done."""


@dataclass(frozen=True, slots=True)
class Written:
    folder: Path
    content_version: int
    files: list[str]


@dataclass(frozen=True, slots=True)
class Verified:
    manifest: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Imported:
    content_version: int
    rows: int
    replaced: bool


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def write_bulk(engine: Engine, folder: Path) -> Written:
    """Write the bulk export of the store's current content version into ``folder`` (created if missing;
    files of the same names replaced, the manifest last)."""
    from app import migrate
    from app.readmodel.build import build_read_model, read_state

    for _ in range(ATTEMPTS):
        before = read_state(engine)
        if before.content_version == 0:
            raise BulkError("the store holds no content (content version 0): nothing exported")
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            rows = b"".join(store_rows.dump_lines(connection))
            connection.rollback()
        model = build_read_model(engine)
        if read_state(engine) == before and (model.info.content_version, model.info.content_hash) == (
            before.content_version,
            before.content_hash,
        ):
            break
    else:
        raise BulkError(f"the content changed during each of {ATTEMPTS} attempts: nothing exported")
    export = build_export(model)
    body = manifest(model, export, None)
    tables = {name: len(found) for name, found in store_rows.parse_lines(rows.splitlines()).items()}
    store_gz = _gzip(rows)
    body["store"] = {
        "url": STORE_FILE,
        "bytes": len(store_gz),
        "sha256": _sha256(store_gz),
        "ndjson_sha256": _sha256(rows),
        "schema_revision": migrate.current_revision(engine),
        "tables": tables,
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for f in export.files.values():
        _write(folder / f"{f.kind}.ndjson.gz", f.gz)
        written.append(f"{f.kind}.ndjson.gz")
    _write(folder / STORE_FILE, store_gz)
    written.append(STORE_FILE)
    _write(folder / MANIFEST, json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n")
    written.append(MANIFEST)
    return Written(folder, model.info.content_version, written)


def _file_name(entry: dict[str, Any]) -> str:
    """The file an entry names: the last segment of its URL (a bare name, or a /v1/export URL)."""
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise BulkError(f"{MANIFEST}: an entry has no url: {json.dumps(entry)[:200]}")
    name = PurePosixPath(urlsplit(url).path).name
    if name in {"", ".", ".."}:
        raise BulkError(f"{MANIFEST}: cannot name a file from url {url!r}")
    return name


def _checked(folder: Path, entry: dict[str, Any]) -> bytes:
    """The file's decompressed NDJSON, after its SHA-256 (and the NDJSON's, when listed) matched."""
    name = _file_name(entry)
    path = folder / name
    if not path.is_file():
        raise BulkError(f"{path}: missing (listed in {MANIFEST}): nothing imported")
    data = path.read_bytes()
    found = _sha256(data)
    if found != entry.get("sha256"):
        raise BulkError(
            f"{path}: sha256 mismatch: {MANIFEST} says {entry.get('sha256')}, the file has {found}: nothing imported"
        )
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise BulkError(f"{path}: not a gzip file ({exc}): nothing imported") from exc
    if "ndjson_sha256" in entry and _sha256(raw) != entry["ndjson_sha256"]:
        raise BulkError(f"{path}: the decompressed NDJSON does not match ndjson_sha256: nothing imported")
    return raw


def verify_bulk(folder: Path) -> Verified:
    """Read ``folder``'s manifest and check every file it lists (present, SHA-256) and the store rows
    (schema revision, counts) against it; touches no store."""
    from app import migrate

    path = folder / MANIFEST
    if not path.is_file():
        raise BulkError(f"{path}: missing: not a bulk export folder (ldn-kb export-bulk writes one)")
    try:
        body = json.loads(path.read_bytes())
    except ValueError as exc:
        raise BulkError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(body, dict) or not isinstance(body.get("files"), list):
        raise BulkError(f"{path}: not a bulk export manifest (no files list)")
    if not all(isinstance(entry, dict) for entry in body["files"]):
        raise BulkError(f"{path}: not a bulk export manifest (a files entry is not an object)")
    from app.kinds import KINDS

    listed = sorted(str(entry.get("kind")) for entry in body["files"])
    if listed != sorted(kind.name for kind in KINDS):
        raise BulkError(
            f"{path}: lists the kinds {', '.join(listed)}; this ldn-kb serves "
            f"{', '.join(sorted(k.name for k in KINDS))}: nothing imported"
        )
    for entry in body["files"]:
        raw = _checked(folder, entry)
        lines = raw.count(b"\n")
        if lines != entry.get("count"):
            raise BulkError(f"{_file_name(entry)}: {lines} records, {MANIFEST} says {entry.get('count')}")
    store = body.get("store")
    if not isinstance(store, dict):
        raise BulkError(
            f"{path}: lists no store rows ({STORE_FILE}): the records' NDJSON alone cannot rebuild a store "
            "whose answers are identical (a manifest saved from GET /v1/export has no rows; use ldn-kb "
            "export-bulk, or the SQLite file the API serves): nothing imported"
        )
    raw = _checked(folder, store)
    head = migrate.head_revision()
    if store.get("schema_revision") != head:
        raise BulkError(
            f"{STORE_FILE}: rows of schema revision {store.get('schema_revision')}, this ldn-kb is at {head}: "
            "export and import with the same release: nothing imported"
        )
    try:
        rows = store_rows.parse_lines(raw.splitlines())
    except ValueError as exc:
        raise BulkError(f"{STORE_FILE}: {exc}: nothing imported") from exc
    counts = {name: len(found) for name, found in rows.items()}
    if counts != store.get("tables"):
        raise BulkError(f"{STORE_FILE}: row counts {counts} differ from {MANIFEST}'s {store.get('tables')}")
    state = rows.get("dataset_state", [])
    if len(state) != 1 or state[0].get("content_version") != body.get("content_version"):
        raise BulkError(f"{STORE_FILE}: its dataset state does not match content_version {body.get('content_version')}")
    return Verified(body, rows)


def _represented_sha256s(session: Session) -> dict[str, str]:
    from app.kinds import KINDS
    from app.readmodel.model import dumps

    out = {}
    for kind in KINDS:
        records = sorted(kind.represent(session), key=lambda r: str(r["slug"]))
        out[kind.name] = _sha256(b"".join(dumps(r) + b"\n" for r in records))
    return out


def import_bulk(engine: Engine, verified: Verified, *, replace: bool = False) -> Imported:
    """Migrate the store, then write the verified rows in one transaction (see the module docstring). Before
    committing, the records the new rows represent must be byte for byte the export's NDJSON."""
    from app import migrate
    from app.bootstrap import store_lock

    expected = {str(f["kind"]): str(f["ndjson_sha256"]) for f in verified.manifest["files"]}
    with store_lock(engine):
        migrate.upgrade_to_head(engine)
        with engine.begin() as connection:
            empty = store_rows.is_empty(connection)
            if not empty:
                if not replace:
                    raise BulkError(
                        "the store already holds content: nothing imported (pass --replace to replace it, "
                        "in one transaction)"
                    )
                store_rows.clear(connection)
            store_rows.insert_rows(connection, verified.rows)
            with Session(bind=connection) as session:
                found = _represented_sha256s(session)
            if found != expected:
                moved = sorted(k for k in expected if found.get(k) != expected[k])
                raise BulkError(
                    f"the imported rows do not represent the exported records of {', '.join(moved)}: "
                    "rolled back, nothing imported"
                )
    total = sum(len(found) for found in verified.rows.values())
    return Imported(int(verified.manifest["content_version"]), total, not empty)
