"""The API contract over the real app: RFC 9457 errors, 406/415, CORS, security headers, public models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import text

from app.api.negotiation import accepts_json
from app.api.problems import Problem
from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES
from app.main import create_app
from app.schemas import conditions, drugs, indications, mechanisms, reference, regimens, sources, targets
from app.settings import Settings

ORIGIN = "https://frontend.example.org"

MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "drugs": (drugs.DrugList, drugs.DrugResponse),
    "regimens": (regimens.RegimenList, regimens.RegimenResponse),
    "targets": (targets.TargetList, targets.TargetResponse),
    "mechanisms": (mechanisms.MechanismList, mechanisms.MechanismResponse),
    "conditions": (conditions.ConditionList, conditions.ConditionResponse),
    "indications": (indications.IndicationList, indications.IndicationResponse),
    "sources": (sources.SourceList, sources.SourceResponse),
}


@pytest.fixture(scope="module")
def cors_client(settings: Settings) -> Iterator[TestClient]:
    """A second app on the module's store, with a CORS origin configured."""
    with TestClient(create_app(settings.model_copy(update={"cors_origins": [ORIGIN]}))) as client:
        yield client


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    Problem.model_validate(body)
    assert body["type"] == PROBLEM_TYPES[slug].uri
    assert body["status"] == status
    assert body["title"] == PROBLEM_TYPES[slug].title
    assert body["instance"] == response.request.url.path
    return body


# --- errors -----------------------------------------------------------------------------------------------


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/no-such-thing"), 404, "not-found")
    assert "/v1/no-such-thing" in body["detail"]
    assert_problem(client.get("/v1/drugs/no-such-drug"), 404, "not-found")


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.delete("/v1/drugs")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]
    response = client.put("/v1/dose-check", json={})
    assert_problem(response, 405, "method-not-allowed")
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


def test_validation_errors_name_each_field(client: TestClient) -> None:
    response = client.get("/v1/regimens", params={"limit": "zero", "route": "nasal"})
    body = assert_problem(response, 422, "validation-error")
    assert {e["field"] for e in body["errors"]} == {"limit", "route"}
    assert all(e["in"] == "query" and e["message"] for e in body["errors"])
    body = assert_problem(client.post("/v1/dose-check", json={"amount": "lots"}), 422, "validation-error")
    assert body["errors"] and all(e["field"] for e in body["errors"])


def test_unknown_query_parameter_is_rejected(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/drugs", params={"colour": "red"}), 400, "unknown-parameter")
    assert [e["field"] for e in body["errors"]] == ["colour"]


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/xml, text/plain;q=0.5", "application/json;q=0", "image/*", "*/*;q=0"],
)
def test_accept_without_json_is_a_406_problem(client: TestClient, accept: str) -> None:
    response = client.get("/v1/drugs", headers={"Accept": accept})
    assert_problem(response, 406, "not-acceptable")
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/problem+json",
        "*/*",
        "application/*",
        "text/html, application/json;q=0.1",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "*/*;q=0.1, application/json;q=0",
    ],
)
def test_accept_admitting_json_is_served(client: TestClient, accept: str) -> None:
    response = client.get("/v1/drugs", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"


def test_accepts_json_follows_the_most_specific_range() -> None:
    assert accepts_json("application/json")
    assert not accepts_json("application/json;q=0, application/problem+json;q=0, */*")
    assert accepts_json("application/*;q=0.2, application/json;q=0")  # problem+json still admitted
    assert not accepts_json("text/*")


def test_406_only_under_v1(client: TestClient) -> None:
    assert client.get("/problems", headers={"Accept": "text/html"}).status_code == 200
    assert client.get("/docs", headers={"Accept": "text/html"}).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "content"),
    [("text/plain", b'{"amount": 4.5}'), ("application/x-www-form-urlencoded", b"amount=4.5"), (None, b"{}")],
)
def test_post_body_that_is_not_json_is_a_415_problem(
    client: TestClient, content_type: str | None, content: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if content_type is None:  # httpx adds no Content-Type to raw content
        assert "content-type" not in client.build_request("POST", "/", content=content).headers
    response = client.post("/v1/dose-check", content=content, headers=headers)
    assert_problem(response, 415, "unsupported-media-type")
    assert response.headers["accept-post"] == "application/json"


def test_json_with_charset_and_plus_json_are_accepted(client: TestClient) -> None:
    body = b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}'
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = client.post("/v1/dose-check", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 200, (content_type, response.text)


def test_unexpected_failure_is_a_500_problem_without_internals(tmp_path: Path) -> None:
    """A real failure (a table gone from the store) gives a bare 500 problem: no trace, no SQL.

    Record reads come from the read model in memory, so the failure is provoked on a write (CDS feedback)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'broken.sqlite3'}", access_log=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/sources").status_code == 200
        with app.state.engine.begin() as conn:
            conn.execute(text("DROP TABLE cds_feedback"))
        feedback = {
            "feedback": [
                {
                    "card": "0b7c2f4e-1c1a-4c55-9a8e-1f2a3b4c5d6e",
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-11-26T12:00:00Z",
                    "overrideReason": {
                        "reason": {"system": "urn:ldn-kb:cds-override-reason", "code": "dose-confirmed"},
                        "userComment": "not now",
                    },
                }
            ]
        }
        response = client.post("/cds-services/ldn-kb-order-sign/feedback", json=feedback)
        body = assert_problem(response, 500, "internal-error")
        assert body["detail"] == "An unexpected error occurred."
        for leak in ("Traceback", "INSERT", "cds_feedback", "sqlite", "OperationalError", "File "):
            assert leak not in response.text
        assert client.get("/v1/regimens").status_code == 200  # reads answer from memory all the same


def test_every_problem_type_is_served_and_listed(client: TestClient) -> None:
    listed = client.get("/problems").json()["data"]
    assert {p["type"] for p in listed} == {p.uri for p in PROBLEM_TYPES.values()}
    for problem in PROBLEM_TYPES.values():
        body = client.get(problem.uri).json()["data"]
        assert body == {
            "type": problem.uri,
            "status": problem.status,
            "title": problem.title,
            "description": problem.description,
        }
    assert_problem(client.get("/problems/no-such-problem"), 404, "not-found")


# --- CORS and security headers ----------------------------------------------------------------------------


def test_cors_preflight_is_answered(cors_client: TestClient) -> None:
    response = cors_client.options(
        "/v1/indications",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "GET" in response.headers["access-control-allow-methods"]
    refused = cors_client.options(
        "/v1/indications", headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in refused.headers


def test_cors_exposes_etag_and_link_and_varies_on_origin(cors_client: TestClient) -> None:
    response = cors_client.get("/v1/sources", params={"limit": "1"}, headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "link"} <= exposed
    assert "link" in response.headers
    assert [v.strip() for v in response.headers["vary"].split(",")].count("Origin") == 1
    # Without Origin (what a CDN may store first) the answer still says it varies on Origin.
    plain = cors_client.get("/v1/sources", params={"limit": "1"})
    assert "Origin" in plain.headers["vary"]
    assert "access-control-allow-origin" not in plain.headers
    assert (
        "access-control-allow-origin"
        not in cors_client.get("/v1/sources", headers={"Origin": "https://x.example"}).headers
    )


def test_any_origin_by_default_none_when_turned_off(client: TestClient, settings: Settings) -> None:
    assert client.get("/v1/drugs", headers={"Origin": ORIGIN}).headers["access-control-allow-origin"] == "*"
    with TestClient(create_app(settings.model_copy(update={"cors_origins": []}))) as off:
        assert "access-control-allow-origin" not in off.get("/v1/drugs", headers={"Origin": ORIGIN}).headers


def _security(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_security_headers_on_fresh_cached_304_and_error_responses(client: TestClient) -> None:
    first = client.get("/v1/targets")
    cached = client.get("/v1/targets")
    not_modified = client.get("/v1/targets", headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304
    for response in (first, cached, not_modified, client.get("/v1/nothing"), client.get("/openapi.json")):
        _security(response)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_docs_pages_have_a_self_only_policy_without_inline_script(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        _security(response)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        html = response.text
        assert "<script>" not in html and "<script " not in html.replace('<script src="', "")


# --- public models match the real responses ---------------------------------------------------------------


def _pages(client: TestClient, path: str) -> Iterator[dict[str, Any]]:
    response = client.get(path, params={"limit": "100"})
    while True:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        yield body
        if not body["links"]["next"]:
            return
        response = client.get(body["links"]["next"])


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_list_and_record_validates_against_its_public_model(client: TestClient, kind: str) -> None:
    list_model, record_model = MODELS[kind]
    slugs = []
    for body in _pages(client, f"/v1/{kind}"):
        list_model.model_validate(body)
        slugs += [item["slug"] for item in body["data"]]
    assert slugs, f"no {kind} in the dataset"
    for slug in slugs:
        record_model.model_validate(client.get(f"/v1/{kind}/{slug}").json())


def test_reference_routes_validate_against_their_models(client: TestClient) -> None:
    reference.EvidenceLevelList.model_validate(client.get("/v1/evidence-levels").json())
    reference.ProblemTypeList.model_validate(client.get("/problems").json())
    reference.ProblemTypeResponse.model_validate(client.get("/problems/validation-error").json())


def test_models_refuse_an_undocumented_field(client: TestClient) -> None:
    """The validation above can fail: a field the models do not document is an error."""
    body = client.get("/v1/sources", params={"limit": "1"}).json()
    body["data"][0]["undocumented"] = 1
    with pytest.raises(ValueError, match="undocumented"):
        sources.SourceList.model_validate(body)


def test_every_error_answer_carries_the_disclaimer_too(client: TestClient) -> None:
    """Audit 8: problem+json answers (422, 404, 400, 405, 406; the pages' 404 too) carried no disclaimer,
    while every response is to carry one. It is an RFC 9457 extension member, ``disclaimer``."""
    requests = [
        ("GET", "/v1/indications?limit=200", {}),
        ("GET", "/v1/drugs/nonexistent", {}),
        ("GET", "/v1/dose-check?dose_mg=4.5", {}),
        ("DELETE", "/v1/drugs", {}),
        ("GET", "/v1/drugs", {"Accept": "text/csv"}),
        ("GET", "/pages/indications/nope", {}),
        ("POST", "/v1/dose-check", {"Content-Type": "application/json"}),
    ]
    for method, path, headers in requests:
        response = client.request(method, path, headers=headers, content=b"{" if method == "POST" else None)
        assert response.status_code >= 400, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json"), (path, response.headers)
        assert response.json()["disclaimer"] == "Reference information, not medical advice.", (path, response.text)
