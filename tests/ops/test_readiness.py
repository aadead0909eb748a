"""/readyz answers 503 problem+json naming the failed check: store down, not migrated, not loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import migrate
from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.db import make_engine
from app.main import create_app
from app.settings import Settings


def readyz(settings: Settings) -> tuple[int, dict[str, Any], str]:
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        return response.status_code, response.json(), response.headers["content-type"]


def test_not_migrated_then_not_loaded_then_ready(database_url: str) -> None:
    settings = Settings(database_url=database_url, auto_migrate=False, auto_load_content=False)
    status, body, media_type = readyz(settings)
    assert status == 503
    assert media_type == "application/problem+json"
    assert body["type"] == "/problems/not-ready" and body["status"] == 503
    assert "migrations" in body["detail"] and "content" in body["detail"]
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "failed"
    assert body["checks"]["migrations"]["current"] is None

    engine = make_engine(settings)
    migrate.upgrade(engine)
    status, body, _ = readyz(settings)
    assert status == 503
    assert body["detail"] == "Failed readiness checks: content."
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["content"] == {"status": "failed", "content_version": 0}

    with Session(engine) as session:
        load_dataset(session, read_dataset())
    engine.dispose()
    status, body, _ = readyz(settings)
    assert status == 200, body
    assert body["status"] == "ready"


def test_unreachable_store(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder-not-a-file"
    folder.mkdir()
    settings = Settings(database_url=f"sqlite:///{folder}", auto_migrate=False, auto_load_content=False)
    status, body, _ = readyz(settings)
    assert status == 503
    assert body["detail"] == "Failed readiness checks: database."
    assert body["checks"]["database"]["status"] == "failed"
    assert "OperationalError" in body["checks"]["database"]["error"]
    assert body["checks"]["migrations"] == {"status": "skipped"}
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200  # alive, only not ready
