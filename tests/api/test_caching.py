"""Strong ETags, 304s, Cache-Control from settings, HEAD on every GET route, Vary, over the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

PATHS = ["/v1/drugs", "/v1/regimens?limit=2", "/v1/indications?status=off-label", "/v1/evidence-levels", "/problems"]


@pytest.fixture(scope="module")
def other(settings: Settings) -> Iterator[TestClient]:
    """A second, independent app instance on the same store, with its own Cache-Control settings."""
    custom = settings.model_copy(update={"cache_max_age": 123, "cache_stale_while_revalidate": 45})
    with TestClient(create_app(custom)) as client:
        yield client


def _with_records(client: TestClient) -> list[str]:
    paths = list(PATHS)
    for kind in ("drugs", "regimens", "conditions", "indications", "sources", "targets", "mechanisms"):
        slug = client.get(f"/v1/{kind}", params={"limit": "1"}).json()["data"][0]["slug"]
        paths.append(f"/v1/{kind}/{slug}")
    return paths


def test_same_representation_same_etag_across_instances(client: TestClient, other: TestClient) -> None:
    for path in _with_records(client):
        mine, theirs = client.get(path), other.get(path)
        assert mine.status_code == theirs.status_code == 200, path
        assert mine.content == theirs.content, path
        # The identity representation's tag, or the same with the coding sent (httpx asks for gzip and br).
        assert re.fullmatch(r'"[0-9a-f]{32}(-gzip|-br)?"', mine.headers["etag"]), mine.headers["etag"]
        assert mine.headers["etag"] == theirs.headers["etag"], path


def test_different_representations_have_different_etags(client: TestClient) -> None:
    tags = {client.get(path).headers["etag"] for path in _with_records(client)}
    assert len(tags) == len(_with_records(client))


def test_if_none_match_gives_304_without_body(client: TestClient) -> None:
    for path in _with_records(client):
        fresh = client.get(path)
        etag = fresh.headers["etag"]
        for inm in (etag, f"W/{etag}", f'"0000", {etag}', "*"):
            response = client.get(path, headers={"If-None-Match": inm})
            assert response.status_code == 304, (path, inm)
            assert response.content == b""
            assert response.headers["etag"] == etag
            assert response.headers.get("cache-control") == fresh.headers.get("cache-control")
        stale = client.get(path, headers={"If-None-Match": '"0123456789abcdef0123456789abcdef"'})
        assert stale.status_code == 200 and stale.content == fresh.content


def test_v1_answers_carry_cache_control(client: TestClient) -> None:
    for path in _with_records(client):
        if path.startswith("/v1/"):
            assert client.get(path).headers["cache-control"].startswith("public, max-age="), path


def test_cache_control_comes_from_settings(client: TestClient, other: TestClient, settings: Settings) -> None:
    expected = (
        f"public, max-age={settings.cache_max_age}, stale-while-revalidate={settings.cache_stale_while_revalidate}"
    )
    assert client.get("/v1/drugs").headers["cache-control"] == expected
    assert other.get("/v1/drugs").headers["cache-control"] == "public, max-age=123, stale-while-revalidate=45"


def test_errors_are_not_given_an_etag(client: TestClient) -> None:
    for response in (client.get("/v1/drugs/nothing-here"), client.get("/v1/drugs", headers={"Accept": "text/csv"})):
        assert response.status_code in (404, 406)
        assert "etag" not in response.headers


def _get_paths(app: FastAPI, client: TestClient) -> list[str]:
    """A concrete path for every GET operation of the app (path parameters filled with a real slug when one
    exists), plus the docs pages."""
    slugs = {
        kind: client.get(f"/v1/{kind}", params={"limit": "1"}).json()["data"][0]["slug"]
        for kind in ("drugs", "regimens", "conditions", "indications", "sources", "targets", "mechanisms")
    }
    out = ["/docs", "/redoc", "/openapi.json"]
    for path, operations in app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        kind = path.split("/")[2] if path.startswith("/v1/") else ""
        path = path.replace("{slug}", slugs.get(kind, "not-found"))
        out.append(re.sub(r"\{[^}]+\}", "unknown", path))
    return out


def test_head_answers_every_get_route_with_headers_only(app: FastAPI, client: TestClient) -> None:
    paths = _get_paths(app, client)
    assert "/v1/drugs" in paths and "/docs" in paths
    for path in paths:
        if path == "/metrics":  # its counters change with every request
            continue
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
        if get.status_code == 200 and path.startswith("/v1/"):
            assert head.headers["etag"] == get.headers["etag"], path
            assert head.headers["content-length"] == get.headers["content-length"], path
            assert head.headers.get("content-encoding") == get.headers.get("content-encoding"), path


def test_head_with_if_none_match_gives_304(client: TestClient) -> None:
    etag = client.get("/v1/regimens").headers["etag"]
    response = client.head("/v1/regimens", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.content == b""


def test_v1_bodies_do_not_vary_by_accept(client: TestClient) -> None:
    """/v1 has one representation (JSON) whatever Accept says, so its 200s carry no Vary: Accept; a 406 does."""
    plain = client.get("/v1/sources", headers={"Accept": "application/json"})
    wild = client.get("/v1/sources", headers={"Accept": "*/*"})
    assert plain.content == wild.content and plain.headers["etag"] == wild.headers["etag"]
    vary = [v.strip().lower() for v in plain.headers.get("vary", "").split(",")]
    assert "accept" not in vary
    assert "Accept" in client.get("/v1/sources", headers={"Accept": "text/html"}).headers["vary"]
