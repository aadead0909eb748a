"""The bulk export: every record of one content version as NDJSON per kind (gzip), with a manifest.

Built from the read model (the same bytes /v1 serves: one record's JSON a line, in slug order), once per
content version and app: :class:`BulkExport` holds the newest. gzip with a fixed mtime, so the same
content gives the same bytes, sha256 and ETag on every instance.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

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


def manifest(model: ReadModel, export: Export, base: str) -> dict[str, Any]:
    info = model.info
    return {
        "content_version": info.content_version,
        "content_hash": info.content_hash,
        "last_updated": model.meta["last_updated"],
        "files": [
            {
                "kind": f.kind,
                "url": f"{base}/v1/export/{f.kind}.ndjson.gz",
                "count": f.count,
                "bytes": len(f.gz),
                "sha256": f.sha256,
                "ndjson_sha256": f.ndjson_sha256,
            }
            for f in export.files.values()
        ],
    }
