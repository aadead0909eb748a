"""Response examples for the OpenAPI document, taken from the real curated dataset (never invented).

``examples.json`` beside this module is a snapshot of real responses of the service on the curated
dataset, lists cut to a few items, long texts left whole. Regenerate it after a change of shape with
``python -m app.schemas.examples`` (a test validates every example against its public model).
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).with_name("examples.json")
EXAMPLE_BASE_URL = "http://127.0.0.1:8000"
TIMESTAMP = "2025-01-01T00:00:00+00:00"

_LIST_ITEMS = 2


@cache
def examples() -> dict[str, Any]:
    """Every example by name (``drug``, ``drug_list``, ..., ``evidence_levels``, ``problem_types``)."""
    loaded: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return loaded


def example(name: str) -> Any:
    return examples()[name]


def example_if_any(name: str) -> Any | None:
    """The example ``name``, or None before examples.json has it (a new kind, before its first build)."""
    return examples().get(name)


def resources() -> dict[str, tuple[str, str]]:  # pragma: no cover - used by build()
    """Example name -> (collection path, slug of the record shown; empty: the first), one per declared kind."""
    from app.kinds import KINDS

    return {kind.singular: (f"/v1/{kind.name}", kind.example_slug) for kind in KINDS}


def _trim(value: Any) -> Any:
    """Cut every list to a few items (the shape stays whole), and fix bookkeeping timestamps."""
    if isinstance(value, list):
        return [_trim(v) for v in value[:_LIST_ITEMS]]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("created_at", "updated_at", "last_updated") and isinstance(item, str):
                out[key] = TIMESTAMP
            else:
                out[key] = _trim(item)
        return out
    return value


def build() -> dict[str, Any]:  # pragma: no cover - run by hand to refresh examples.json
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/examples.sqlite3", access_log=False)
        with TestClient(create_app(settings), base_url=EXAMPLE_BASE_URL) as client:
            out: dict[str, Any] = {}
            for name, (path, slug) in resources().items():
                listed = client.get(path, params={"limit": 1}).json()
                listed["data"] = listed["data"][:1]
                out[f"{name}_list"] = _trim(listed)
                chosen = slug or listed["data"][0]["slug"]
                out[name] = _trim(client.get(f"{path}/{chosen}").json())
            out["evidence_levels"] = client.get("/v1/evidence-levels").json()
            out["problem_types"] = client.get("/problems").json()
            out["problem_type"] = client.get("/problems/not-found").json()
    return out


if __name__ == "__main__":  # pragma: no cover
    EXAMPLES_FILE.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {EXAMPLES_FILE}\n")
