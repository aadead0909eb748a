"""The spec tells the truth about list parameters and shapes (issue 13 row 13, issue 15 items 3 and 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.kinds import KINDS
from app.main import create_app
from app.settings import Settings


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{m.upper()} {p}", op) for p, item in document["paths"].items() for m, op in item.items()]


def test_query_parameters_have_clean_types() -> None:
    """No `X or null` for an optional query parameter: absent is not null."""
    document = create_app().openapi()
    nullable = [
        (name, parameter["name"])
        for name, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and {"type": "null"} in parameter["schema"].get("anyOf", [])
    ]
    assert nullable == []


def test_limit_maximum_is_the_enforced_one(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'l.sqlite3'}", page_limit_max=50))
    document = app.openapi()
    for kind in KINDS:
        limit = next(p for p in document["paths"][f"/v1/{kind.name}"]["get"]["parameters"] if p["name"] == "limit")
        assert limit["schema"]["maximum"] == 50 and limit["schema"]["default"] == 20
    with TestClient(app) as client:
        assert client.get("/v1/sources", params={"limit": "50"}).status_code == 200
        assert client.get("/v1/sources", params={"limit": "51"}).status_code == 422


def test_sort_lists_each_operations_own_fields() -> None:
    document = create_app().openapi()
    for kind in KINDS:
        sort = next(p for p in document["paths"][f"/v1/{kind.name}"]["get"]["parameters"] if p["name"] == "sort")
        names = [f.name for f in kind.sort_fields]
        assert sort["schema"]["enum"] == [*names, *(f"-{n}" for n in names)], kind.name
    sources = document["paths"]["/v1/sources"]["get"]["parameters"]
    assert "year" in next(p for p in sources if p["name"] == "sort")["schema"]["enum"]


def test_list_items_keep_their_required_fields_and_sparse_pages_have_their_own_shape() -> None:
    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    for kind in KINDS:
        item = schemas[f"{kind.record_model.__name__}ListItem"]
        assert "slug" in item["required"] and set(item["required"]) == set(kind.record_model.model_fields), kind.name
        content = document["paths"][f"/v1/{kind.name}"]["get"]["responses"]["200"]["content"]
        assert content["application/vnd.ldnkb.sparse+json"]["schema"] == {"$ref": "#/components/schemas/SparseList"}
        assert "updated_since" in {p["name"] for p in document["paths"][f"/v1/{kind.name}"]["get"]["parameters"]}
    assert "SparseList" in schemas


def test_a_sparse_page_is_served_as_its_documented_type(client: TestClient) -> None:
    sparse = client.get("/v1/regimens", params={"fields": "slug,name"})
    assert sparse.headers["content-type"] == "application/vnd.ldnkb.sparse+json"
    assert all(list(item) == ["slug", "name"] for item in sparse.json()["data"])
    full = client.get("/v1/regimens")
    assert full.headers["content-type"] == "application/json"
