"""A Python client generated from the live OpenAPI document (openapi-python-client) talks to the real service.

The client is generated fresh from ``create_app().openapi()`` into a temporary folder, so this fails when the
spec stops describing what the service answers: a call the generator cannot build, or a 200 body that the
generated models cannot parse into typed objects.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.api.clients.live import live_service, openapi_document
from tests.ops.server import BIN, Server

pytestmark = pytest.mark.slow

PACKAGE = "ldn_kb_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The generated client package's parent folder, importable while the module's tests run."""
    folder = tmp_path_factory.mktemp("python-client")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(openapi_document()), encoding="utf-8")
    config = folder / "config.yaml"
    # No post hooks: the generated code is imported, not committed, so it needs no formatter.
    # Downloads (gzip NDJSON, FHIR NDJSON, the SQLite file) are bytes to the client: the generator's documented override.
    config.write_text(
        f"package_name_override: {PACKAGE}\npost_hooks: []\ncontent_type_overrides:\n"
        "  application/gzip: application/octet-stream\n  application/fhir+ndjson: application/octet-stream\n"
        "  application/vnd.sqlite3: application/octet-stream\n",
        encoding="utf-8",
    )
    out = folder / "out"
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"openapi-python-client failed:\n{result.stdout}\n{result.stderr}"
    sys.path.insert(0, str(out))
    try:
        yield out
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_service(database_url, tmp_path_factory.mktemp("python-client-server")) as running_server:
        yield running_server


@pytest.fixture
def api(generated: Path, server: Server) -> Iterator[Any]:
    client_module = _module("client")
    with client_module.Client(base_url=server.url, raise_on_unexpected_status=True) as client:
        yield client


def _is_generated_model(value: object) -> bool:
    return type(value).__module__.startswith(f"{PACKAGE}.models.") and hasattr(value, "to_dict")


def test_list_off_label_indications(api: Any, server: Server) -> None:
    list_indications = _module("api.indications.list_indications")
    approval_status = _module("models.approval_status").ApprovalStatus
    off_label = approval_status("off-label")

    response = list_indications.sync_detailed(client=api, status=off_label, limit=100)
    assert response.status_code == 200, response.content
    page = response.parsed
    assert _is_generated_model(page), f"200 body not parsed into a generated model: {type(page).__name__}"
    assert page.data, "no off-label indication listed"
    assert all(item.status == off_label for item in page.data)

    # The same request without the generated client: the typed view holds exactly the records sent.
    raw = httpx.get(f"{server.url}/v1/indications", params={"status": "off-label", "limit": 100}).json()
    assert [item.slug for item in page.data] == [item["slug"] for item in raw["data"]]
    assert page.meta.total == raw["meta"]["total"] >= len(page.data)
    levels = {str(item.evidence.level) for item in page.data}
    assert levels == {item["evidence"]["level"] for item in raw["data"]}


def test_list_items_type_their_fields_as_required(api: Any) -> None:
    """A list item's fields are required in the spec, so the generated model types them without ``Unset``."""
    for name in ("indication_list_item", "drug_list_item", "regimen_list_item"):
        module = _module(f"models.{name}")
        model = next(v for k, v in vars(module).items() if k.lower() == name.replace("_", ""))
        annotations = {k: str(v) for k, v in model.__annotations__.items()}
        assert annotations["slug"] in ("str", "<class 'str'>"), (name, annotations["slug"])
        assert not [k for k, v in annotations.items() if "Unset" in v and k != "additional_properties"], name


def test_get_drug_by_slug(api: Any) -> None:
    get_drug = _module("api.drugs.get_drug")

    response = get_drug.sync_detailed(client=api, slug="naltrexone")
    assert response.status_code == 200, response.content
    record = response.parsed
    assert _is_generated_model(record), f"200 body not parsed into a generated model: {type(record).__name__}"
    assert record.data.slug == "naltrexone"
    assert record.data.name.lower() == "naltrexone"
    assert record.meta.disclaimer


def test_unknown_slug_is_a_parsed_problem(api: Any) -> None:
    get_drug = _module("api.drugs.get_drug")
    problem_class = _module("models.problem").Problem

    response = get_drug.sync_detailed(client=api, slug="no-such-drug")
    assert response.status_code == 404
    assert isinstance(response.parsed, problem_class)
    assert response.parsed.status == 404
    assert response.parsed.type_ == "/problems/not-found"
