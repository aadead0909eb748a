"""/healthz, /readyz, /metrics, request ids and the access log, on the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from app.observability.logging import ACCESS_LOGGER, AccessLog


def samples(client: TestClient, name: str) -> list[Sample]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples if s.name == name]


def request_count(client: TestClient, route: str, status: str, method: str = "GET") -> float:
    found = [
        s.value
        for s in samples(client, "ldn_kb_http_requests_total")
        if s.labels["route"] == route and s.labels["status"] == status and s.labels["method"] == method
    ]
    return sum(found)


def test_healthz_is_ok_and_not_cached(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz_reports_every_check(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "content", "writes", "read_model"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    migrations = body["checks"]["migrations"]
    assert migrations["current"] == migrations["head"] and migrations["head"]
    assert body["checks"]["content"]["content_version"] > 0
    assert body["checks"]["read_model"]["content_version"] == body["checks"]["content"]["content_version"]
    assert response.headers["cache-control"] == "no-store"


def test_operations_are_documented(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path, operation_id in (("/healthz", "healthz"), ("/readyz", "readyz"), ("/metrics", "metrics")):
        operation = paths[path]["get"]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["operations"]
        assert operation["summary"] and operation["description"]
    assert "503" in paths["/readyz"]["get"]["responses"]


def test_request_id_is_taken_when_sane_and_made_otherwise(client: TestClient) -> None:
    given = "req-42.abc_DEF"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    for bad in ("a" * 129, "has space", "semi;colon", b"\xfc\xef"):
        # bytes on purpose: a header value that is not UTF-8
        echoed = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]  # type: ignore[arg-type]
        assert echoed not in (bad, "a" * 128)
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", echoed)
    made = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(made) == 5
    # Errors and cached answers carry one too.
    assert client.get("/no/such/path").headers["x-request-id"]


def test_metrics_count_by_route_template_not_raw_path(client: TestClient) -> None:
    slug = client.get("/problems").json()["data"][0]["type"].rsplit("/", 1)[1]
    template = "/problems/{slug}"
    before = request_count(client, template, "200")
    head_before = request_count(client, template, "200", method="HEAD")
    for _ in range(2):
        assert client.get(f"/problems/{slug}").status_code == 200
    assert client.head(f"/problems/{slug}").status_code == 200  # routed on a copy of the scope
    assert request_count(client, template, "200") == before + 2
    assert request_count(client, template, "200", method="HEAD") == head_before + 1
    other = client.get("/problems").json()["data"][-1]["type"].rsplit("/", 1)[1]
    assert other != slug
    assert client.head(f"/problems/{other}").status_code == 200  # a path never routed on this scope before
    assert request_count(client, template, "200", method="HEAD") == head_before + 2

    cached_before = request_count(client, "/v1/evidence-levels", "200")
    for _ in range(3):  # the later ones are answered by the response cache, before routing
        assert client.get("/v1/evidence-levels").status_code == 200
    assert request_count(client, "/v1/evidence-levels", "200") == cached_before + 3

    unmatched_before = request_count(client, "unmatched", "404")
    assert client.get(f"/no/such/{slug}").status_code == 404
    assert request_count(client, "unmatched", "404") == unmatched_before + 1

    routes = {s.labels["route"] for s in samples(client, "ldn_kb_http_requests_total")}
    assert f"/problems/{slug}" not in routes and f"/no/such/{slug}" not in routes
    histogram_count = [
        s.value
        for s in samples(client, "ldn_kb_http_request_duration_seconds_count")
        if s.labels["route"] == template and s.labels["status"] == "200" and s.labels["method"] == "GET"
    ]
    assert histogram_count == [request_count(client, template, "200")]


def test_metrics_state_gauges(client: TestClient) -> None:
    ready = client.get("/readyz").json()
    (version,) = samples(client, "ldn_kb_content_version")
    assert version.value == ready["checks"]["content"]["content_version"]
    (build,) = samples(client, "ldn_kb_build_info")
    assert build.labels["version"] == client.app.version  # type: ignore[attr-defined]
    # Served on the public port: the Python version is left out (issue 13, row 12).
    assert "python" not in build.labels
    (breaker,) = samples(client, "ldn_kb_db_breaker_open")
    assert breaker.value == 0
    # The scrape itself is in flight while it is rendered.
    (in_flight,) = samples(client, "ldn_kb_http_requests_in_flight")
    assert in_flight.value == 1
    (checked_out,) = samples(client, "ldn_kb_db_pool_checked_out")
    assert checked_out.labels["dialect"] in ("sqlite", "postgresql")
    assert checked_out.value >= 0
    assert samples(client, "ldn_kb_db_pool_size")


@pytest.fixture
def access_lines(app: FastAPI, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    access_log: AccessLog = app.state.access_log
    app.state.observer.flush()  # earlier tests' requests, still waiting in the batch, go to the old stream
    stream = io.StringIO()
    access_log.stream = stream
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    try:
        yield stream
    finally:
        access_log.stream = None


def test_access_log_line_per_request_without_secrets(client: TestClient, access_lines: io.StringIO) -> None:
    secret = "s3cr3t-token-value"
    response = client.get(
        "/v1/evidence-levels",
        params={"api_key": secret},
        headers={"Authorization": f"Bearer {secret}", "X-Api-Key": secret, "X-Request-ID": "trace-1"},
    )
    assert response.status_code == 400  # an unknown parameter is refused, and still logged
    client.get("/healthz", headers={"X-Request-ID": "trace-2"})
    client.app.state.observer.flush()  # type: ignore[attr-defined]  # lines are written in batches
    text = access_lines.getvalue()
    assert secret not in text and "Bearer" not in text and "api_key" not in text
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert [line["request_id"] for line in lines] == ["trace-1", "trace-2"]
    first = lines[0]
    assert set(first) == {
        "timestamp",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
    }
    assert (first["method"], first["route"], first["status"]) == ("GET", "/v1/evidence-levels", 400)
    assert first["logger"] == ACCESS_LOGGER and first["level"] == "info"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(first["timestamp"]))


def test_access_log_switched_off(app: FastAPI, client: TestClient, access_lines: io.StringIO) -> None:
    access_log: AccessLog = app.state.access_log
    access_log.enabled = False
    try:
        client.get("/healthz")
        client.app.state.observer.flush()  # type: ignore[attr-defined]
    finally:
        access_log.enabled = True
    assert access_lines.getvalue() == ""
