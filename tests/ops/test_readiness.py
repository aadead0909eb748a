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


def test_a_full_or_read_only_store_is_not_ready(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    status, body, _ = readyz(settings)
    assert status == 200 and body["checks"]["writes"] == {"status": "ok"}
    if database_url.startswith("sqlite"):
        # Less free disk than required: "full" (the figure is the filesystem's, no path).
        full = settings.model_copy(update={"store_min_free_bytes": 10**18})
        status, body, _ = readyz(full)
        assert status == 503 and body["detail"] == "Failed readiness checks: writes."
        assert body["checks"]["writes"]["reason"] == "full"
        read_only = settings.model_copy(
            update={"database_url": database_url.replace("sqlite:///", "sqlite:///file:") + "?mode=ro&uri=true"}
        )
    else:
        read_only = settings.model_copy(
            update={"database_url": database_url + "?options=-c%20default_transaction_read_only%3Don"}
        )
    status, body, _ = readyz(read_only)
    assert status == 503, body
    assert body["checks"]["writes"]["status"] == "failed" and body["checks"]["writes"]["reason"] == "read-only"
    # ... and a write there is a 503 to retry elsewhere or later, not a 500.
    item = {
        "card": "c",
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-26T12:00:00Z",
        "overrideReason": {
            "reason": {"system": "urn:ldn-kb:cds-override-reason", "code": "dose-confirmed"},
            "userComment": "declined",
        },
    }
    with TestClient(create_app(read_only)) as client:
        response = client.post("/cds-services/ldn-kb-order-sign/feedback", json={"feedback": [item]})
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/store-unavailable" and response.headers["retry-after"]
    # A read replica by intent: writes are not required.
    replica = read_only.model_copy(update={"readiness_requires_writes": False, "auto_migrate": False})
    status, body, _ = readyz(replica)
    assert status == 200 and body["checks"]["writes"] == {"status": "not-required"}


def test_the_error_module_knows_no_integration() -> None:
    from pathlib import Path as _Path

    from tests.imports import modules_left_loaded

    root = _Path(__file__).resolve().parents[2]
    assert modules_left_loaded("import app.errors", ["app.integrations.fhir.errors"], root) == []


def test_a_store_that_cannot_be_created_leaves_the_process_up_and_not_ready() -> None:
    settings = Settings(database_url="sqlite:////proc/no-such-folder/kb.sqlite3", store_retry_interval=60)
    status, body, _ = readyz(settings)
    assert status == 503 and body["checks"]["database"]["status"] == "failed"
    assert "/proc" not in str(body)
