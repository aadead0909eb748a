"""The store of the current content version as one SQLite file (as Datasette offers), listed in the manifest."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_the_sqlite_file_is_the_store_and_matches_the_manifest(client: TestClient, tmp_path: Path) -> None:
    entry = client.get("/v1/export").json()["data"]["sqlite"]
    assert entry["url"] == "http://testserver/v1/export/ldn-kb.sqlite3"
    response = client.get("/v1/export/ldn-kb.sqlite3")
    assert response.status_code == 200 and response.headers["content-type"] == "application/vnd.sqlite3"
    assert response.content.startswith(b"SQLite format 3\x00")
    assert len(response.content) == entry["bytes"] == int(response.headers["content-length"])
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
    assert response.headers["etag"] == f'"{entry["sha256"]}"'  # strong
    assert "no-store" in response.headers["cache-control"]  # kept out of the in-memory response cache
    path = tmp_path / "copy.sqlite3"
    path.write_bytes(response.content)
    with sqlite3.connect(path) as db:
        for kind in ("regimens", "sources"):
            total = client.get(f"/v1/{kind}", params={"limit": "1"}).json()["meta"]["total"]
            slugs = {row[0] for row in db.execute(f"SELECT slug FROM {kind[:-1]}")}
            assert len(slugs) == total
        changes = db.execute("SELECT count(*) FROM record_change").fetchone()[0]
    assert changes > 0
    again = client.get("/v1/export/ldn-kb.sqlite3", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = client.head("/v1/export/ldn-kb.sqlite3")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == response.headers["etag"]
    assert client.get("/v1/export/ldn-kb.sqlite3").content == response.content  # built once per version


def test_the_file_is_removed_at_shutdown(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as local:
        assert local.get("/v1/export/ldn-kb.sqlite3").status_code == 200
        current = app.state.sqlite_snapshots._current
        assert current is not None
        made = current.path
        assert made.exists()
    assert not made.exists() and not made.parent.exists()
