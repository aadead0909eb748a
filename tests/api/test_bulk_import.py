"""`ldn-kb export-bulk` then `ldn-kb import-bulk` into a fresh store: every answer byte-identical.

The source store holds two content versions (the dataset, then an update, a create and a delete), so the
revisions, the changes feed and a deleted record's history are part of what must survive the copy. Each
store gets the real app over httpx; the CLI runs as its own process, as an operator runs it. On PostgreSQL
the same (skipped with the reason when LDNKB_TEST_DATABASE_URL is unset).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect
from sqlmodel import Session

from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.content.schema import Dataset
from app.db import make_engine
from app.kinds import KINDS
from app.main import create_app
from app.settings import Settings
from tests.conftest import fresh_store

ROOT = Path(__file__).resolve().parents[2]

Answer = tuple[int, str | None, str | None, str | None, bytes]


@dataclass(frozen=True)
class Stores:
    kind: str
    source: str
    target: str
    occupied: str  # holds the plain dataset: the import must refuse it or replace it whole
    untouched: str  # never written: a refused import must leave it so
    folder: Path


def _next_version(dataset: Dataset) -> Dataset:
    """An update (a regimen's plain summary), a create (a copy of a source under a test slug), a delete."""
    regimens = [
        r.model_copy(update={"plain_summary": r.plain_summary + " [edited]"}) if r.slug == "low-dose-naltrexone" else r
        for r in dataset.regimens
    ]
    created = dataset.sources[0].model_copy(update={"slug": "test-created-source", "title": "Created by the test"})
    return dataset.model_copy(
        update={
            "regimens": regimens,
            "sources": [*dataset.sources, created],
            "mechanisms": dataset.mechanisms[:-1],
        }
    )


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LDNKB_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    with ExitStack() as stack:
        urls = [
            stack.enter_context(fresh_store(request.param, tmp_path_factory.mktemp(name)))
            for name in ("source", "target", "occupied", "untouched")
        ]
        source = urls[0]
        with TestClient(create_app(_settings(source))):  # migrates and loads the dataset (version 1)
            pass
        engine = make_engine(_settings(source))
        with Session(engine) as session:
            assert load_dataset(session, _next_version(read_dataset())).content_version == 2
        engine.dispose()
        assert cli(urls[2], "load-content").returncode == 0
        folder = tmp_path_factory.mktemp("bulk") / "export"
        done = cli(source, "export-bulk", str(folder))
        assert done.returncode == 0, done.stderr
        yield Stores(request.param, source, urls[1], urls[2], urls[3], folder)


def _settings(url: str) -> Settings:
    return Settings(database_url=url, content_check_interval=0)


def _get(client: TestClient, url: str, out: dict[str, Answer]) -> Any:
    r = client.get(url)
    h = r.headers
    out[url] = (r.status_code, h.get("content-type"), h.get("etag"), h.get("last-modified"), r.content)
    assert r.status_code == 200, (url, r.text[:300])
    return r.json() if "json" in (h.get("content-type") or "") else None


def _pages(client: TestClient, url: str, out: dict[str, Answer], nxt: Any) -> list[Any]:
    bodies = []
    current: str | None = url
    while current:
        body = _get(client, current, out)
        bodies.append(body)
        current = nxt(body)
    return bodies


def _fhir_next(body: dict[str, Any]) -> str | None:
    return next((link["url"] for link in body.get("link", []) if link["relation"] == "next"), None)


def answers(url: str) -> dict[str, Answer]:
    """Every answer a copy must reproduce, by URL: status, content type, ETag, Last-Modified and bytes."""
    out: dict[str, Answer] = {}
    with TestClient(create_app(_settings(url))) as client:
        changes = _pages(client, "/v1/changes?limit=25", out, lambda b: b["links"]["next"])
        ever = {(c["kind"], c["slug"]) for body in changes for c in body["data"]}
        for kind in KINDS:
            for body in _pages(client, f"/v1/{kind.name}?limit=4", out, lambda b: b["links"]["next"]):
                for record in body["data"]:
                    _get(client, f"/v1/{kind.name}/{record['slug']}", out)
        for kind_name, slug in sorted(ever):
            revisions = _get(client, f"/v1/{kind_name}/{slug}/revisions", out)
            for revision in revisions["data"]:
                _get(client, f"/v1/{kind_name}/{slug}/revisions/{revision['version']}", out)
        mk = "/fhir/R4/MedicationKnowledge"
        for bundle in _pages(client, f"{mk}?_count=3", out, _fhir_next):
            for entry in bundle.get("entry", []):
                resource = _get(client, entry["fullUrl"], out)
                _get(client, f"{entry['fullUrl']}/_history", out)
                _get(client, f"{entry['fullUrl']}/_history/{resource['meta']['versionId']}", out)
        _get(client, f"{mk}/_history", out)
        _get(client, "/fhir/R4/metadata", out)
        for query in ("naltrexone", "fibromyalgia", "pain"):
            _get(client, f"/v1/search?q={query}", out)
        manifest = _get(client, "/v1/export", out)
        for f in manifest["data"]["files"]:
            _get(client, f["url"], out)
    return out


def _differences(expected: dict[str, Answer], found: dict[str, Answer]) -> list[str]:
    return sorted(u for u in expected.keys() | found.keys() if expected.get(u) != found.get(u))


def test_an_import_into_a_fresh_store_answers_byte_for_byte_as_the_source(stores: Stores) -> None:
    done = cli(stores.target, "import-bulk", str(stores.folder))
    assert done.returncode == 0, done.stderr
    assert "content version 2" in done.stdout
    expected, found = answers(stores.source), answers(stores.target)
    assert len(expected) > 300
    assert any("/revisions/2" in u for u in expected) and any("/mechanisms/" in u for u in expected)
    assert _differences(expected, found) == []


def test_export_of_the_copy_is_the_same_folder(stores: Stores, tmp_path: Path) -> None:
    folder = tmp_path / "again"
    done = cli(stores.target, "export-bulk", str(folder))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in stores.folder.iterdir())
    assert names == sorted(p.name for p in folder.iterdir())
    for name in names:
        assert (folder / name).read_bytes() == (stores.folder / name).read_bytes(), name


def test_the_folder_holds_what_the_api_exports(stores: Stores) -> None:
    manifest = orjson.loads((stores.folder / "manifest.json").read_bytes())
    with TestClient(create_app(_settings(stores.source))) as client:
        served = client.get("/v1/export").json()["data"]
        for f in served["files"]:
            assert (stores.folder / f"{f['kind']}.ndjson.gz").read_bytes() == client.get(f["url"]).content
    assert {k: served[k] for k in ("content_version", "content_hash", "last_updated")} == {
        k: manifest[k] for k in ("content_version", "content_hash", "last_updated")
    }
    bare = [{**f, "url": f"{f['kind']}.ndjson.gz"} for f in served["files"]]
    assert manifest["files"] == bare
    assert manifest["store"]["url"] == "store.ndjson.gz" and manifest["store"]["tables"]["revision"] > 0
    assert "cds_feedback" not in manifest["store"]["tables"]


def _tampered(stores: Stores, tmp_path: Path) -> Path:
    folder = tmp_path / "tampered"
    folder.mkdir()
    for path in stores.folder.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    regimens = folder / "regimens.ndjson.gz"
    raw = gzip.decompress(regimens.read_bytes()).replace(b"low-dose", b"high-dose", 1)
    regimens.write_bytes(gzip.compress(raw, mtime=0))
    return folder


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_a_tampered_file_is_refused_before_the_store_is_touched(stores: Stores, tmp_path: Path) -> None:
    folder = _tampered(stores, tmp_path)
    before = answers(stores.occupied)
    done = cli(stores.occupied, "import-bulk", "--replace", str(folder))
    assert done.returncode == 1
    assert "regimens.ndjson.gz: sha256 mismatch" in done.stderr and "nothing imported" in done.stderr
    assert _differences(before, answers(stores.occupied)) == []
    done = cli(stores.untouched, "import-bulk", str(folder))
    assert done.returncode == 1 and "sha256 mismatch" in done.stderr
    if stores.kind == "sqlite":
        assert not Path(stores.untouched.removeprefix("sqlite:///")).exists()
    else:
        assert _tables(stores.untouched) == []  # not even migrated


def test_rows_that_do_not_represent_the_records_are_rolled_back(stores: Stores, tmp_path: Path) -> None:
    """A folder whose manifest was rewritten to fit edited rows passes the SHA-256 checks; the import then
    finds, inside its transaction, that the rows do not give the exported records, and rolls back: the
    store it was replacing is as it was."""
    folder = _tampered(stores, tmp_path)
    (folder / "regimens.ndjson.gz").write_bytes((stores.folder / "regimens.ndjson.gz").read_bytes())
    lines = gzip.decompress((folder / "store.ndjson.gz").read_bytes()).splitlines(keepends=True)
    edited = [i for i, line in enumerate(lines) if line.startswith(b'{"table":"regimen"') and b"[edited]" in line]
    assert len(edited) == 1
    lines[edited[0]] = lines[edited[0]].replace(b"[edited]", b"[changed]")
    rows = b"".join(lines)
    packed = gzip.compress(rows, mtime=0)
    (folder / "store.ndjson.gz").write_bytes(packed)
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    manifest["store"] |= {"sha256": hashlib.sha256(packed).hexdigest(), "bytes": len(packed)}
    manifest["store"]["ndjson_sha256"] = hashlib.sha256(rows).hexdigest()
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest))
    before = answers(stores.occupied)
    done = cli(stores.occupied, "import-bulk", "--replace", str(folder))
    assert done.returncode == 1
    assert "do not represent the exported records of regimens" in done.stderr and "rolled back" in done.stderr
    assert _differences(before, answers(stores.occupied)) == []


def test_a_missing_file_or_manifest_is_refused(stores: Stores, tmp_path: Path) -> None:
    folder = _tampered(stores, tmp_path)
    (folder / "regimens.ndjson.gz").unlink()
    done = cli(stores.untouched, "import-bulk", str(folder))
    assert done.returncode == 1 and "regimens.ndjson.gz: missing" in done.stderr
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    manifest["files"] = [f for f in manifest["files"] if f["kind"] != "regimens"]
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest))
    done = cli(stores.untouched, "import-bulk", str(folder))
    assert done.returncode == 1 and "this ldn-kb serves" in done.stderr
    (folder / "manifest.json").unlink()
    done = cli(stores.untouched, "import-bulk", str(folder))
    assert done.returncode == 1 and "manifest.json: missing" in done.stderr


def test_a_store_with_content_is_refused_or_replaced_whole(stores: Stores) -> None:
    before = answers(stores.occupied)
    done = cli(stores.occupied, "import-bulk", str(stores.folder))
    assert done.returncode == 1 and "already holds content" in done.stderr
    assert _differences(before, answers(stores.occupied)) == []
    done = cli(stores.occupied, "import-bulk", "--replace", str(stores.folder))
    assert done.returncode == 0, done.stderr
    assert _differences(answers(stores.source), answers(stores.occupied)) == []
    # The copy goes on as a store: the next content load appends (ids and sequences moved past the rows).
    engine = make_engine(_settings(stores.occupied))
    with Session(engine) as session:
        assert load_dataset(session, read_dataset()).content_version == 3
    engine.dispose()
