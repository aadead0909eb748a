"""The spec tells the truth about list parameters and shapes (issue 13 row 13, issue 15 items 3 and 5)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.api.deps import _takes_a_list
from app.api.v1.search import SearchKind
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


def _parameter(document: dict[str, Any], path: str, name: str, method: str = "get") -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in document["paths"][path][method]["parameters"] if p["name"] == name)
    return found


def test_the_spec_states_what_the_server_checks() -> None:
    """What schemathesis found valid by the spec and the server refused (ST202), now in the spec."""
    document = create_app().openapi()
    prefer = _parameter(document, "/fhir/R4/$export", "Prefer")
    assert prefer["in"] == "header" and prefer["required"] is True and prefer["schema"]["enum"] == ["respond-async"]
    # An empty _search body is a search without parameters.
    assert document["paths"]["/fhir/R4/MedicationKnowledge/_search"]["post"]["requestBody"]["required"] is False
    assert _parameter(document, "/v1/changes", "kind")["schema"]["enum"] == [k.name for k in KINDS]
    assert _parameter(document, "/v1/changes", "since")["schema"]["oneOf"] == [
        {"pattern": "^[0-9]{0,12}$"},
        {"format": "date-time"},
    ]
    for kind in KINDS:
        pattern = _parameter(document, f"/v1/{kind.name}", "fields")["schema"]["pattern"]
        assert re.fullmatch(pattern, "slug,name" if "name" in kind.record_model.model_fields else "slug")
        assert not re.fullmatch(pattern, "slug,no_such_field")


def test_updated_since_is_a_date_time_not_a_number(client: TestClient) -> None:
    """pydantic would read `0.5` as a Unix time; the spec says an RFC 3339 date-time (schemathesis ST201)."""
    for value in ("0.5", "1700000000", "2025-01-01"):
        response = client.get("/v1/drugs", params={"updated_since": value})
        assert response.status_code == 422, (value, response.text)
    assert client.get("/v1/drugs", params={"updated_since": "2025-01-01t00:00:00z"}).status_code == 200


def test_a_forged_feed_cursor_is_an_invalid_cursor_like_every_other(client: TestClient) -> None:
    response = client.get("/v1/changes", params={"cursor": "eyJhZnRlciI6MSwiZiI6IngifQ"})
    assert response.status_code == 400 and response.json()["type"] == "/problems/invalid-cursor"
    assert client.get("/v1/changes", params={"since": "2026-01-01t00:00:00z"}).status_code == 200


def test_links_lead_from_answers_to_the_operations_they_feed() -> None:
    """OpenAPI links (app/api/links.py): list -> detail -> revisions, FHIR search -> read -> vread, Bulk Data
    kick-off -> status; every target operation exists."""
    document = create_app().openapi()
    operation_ids = {op["operationId"] for _, op in _operations(document) if "operationId" in op}
    links = {
        (op["operationId"], status, name): link
        for _, op in _operations(document)
        for status, response in op["responses"].items()
        for name, link in response.get("links", {}).items()
    }
    assert len(links) >= 40 and {link["operationId"] for link in links.values()} <= operation_ids
    assert links[("listDrugs", "200", "getDrug")]["parameters"] == {"slug": "$response.body#/data/0/slug"}
    assert links[("getDrug", "200", "listDrugRevisions")]["parameters"] == {"slug": "$response.body#/data/slug"}
    status = links[("fhirBulkExportKickOff", "202", "status")]["parameters"]["job"]
    expression, _, pattern = status.partition("#regex:")
    assert expression == "$response.header.Content-Location"
    found = re.search(pattern, "https://kb.example.org/fhir/R4/$export-status/abc.DEF_1")
    assert found is not None and found.group(1) == "abc.DEF_1"


def test_a_parameter_that_takes_one_value_given_twice_is_a_400_never_the_last_value(tmp_path: Path) -> None:
    """Audit 8: ``amount=4.5&amount=50`` answered for 50 mg ("labelled dose"): an ambiguous request gets a
    problem naming the parameter, on every operation; a list parameter (search's ``kind``) may repeat."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}"))
    with TestClient(app) as client:
        for path in (
            "/v1/dose-check?amount=4.5&amount=50&unit=mg&frequency=daily",
            "/v1/dose-check?amount=4.5&unit=g&unit=mg&frequency=daily",
            "/v1/indications?limit=20&limit=50",
            "/v1/indications?sort=slug&limit=5&sort=-slug",
            "/v1/search?q=pain&q=fibromyalgia",
            "/v1/drugs/naltrexone?fields=slug&fields=name",
        ):
            for _ in range(2):  # the second time too: never a cached answer
                response = client.get(path)
                assert response.status_code == 400, (path, response.status_code, response.text[:200])
                assert response.headers["content-type"].startswith("application/problem+json")
                problem = response.json()
                repeated = path.split("?")[1].split("&")
                name = next(
                    p.split("=")[0] for p in repeated if sum(q.startswith(p.split("=")[0] + "=") for q in repeated) > 1
                )
                assert name in problem["detail"] and problem["errors"][0]["field"] == name, problem
        assert client.get("/v1/search?q=pain&kind=conditions&kind=indications").status_code == 200
        assert _takes_a_list(list[SearchKind] | None) and not _takes_a_list(str | None)  # what the stack reads
        assert client.get("/v1/dose-check?amount=4.5&unit=mg&frequency=daily").status_code == 200
