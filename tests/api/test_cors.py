"""CORS as a browser meets it: on by default for the public read API (``*``, no credentials), preflights
answered, the same headers on cache hits and 304s from the front door, CDS Hooks with ``Authorization``
allowed, and the setting that restricts origins or turns CORS off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.api.front_door import KnowledgeApp
from app.main import create_app
from app.settings import Settings

ORIGIN = "https://frontend.example"
EXPOSED = {
    "etag",
    "link",
    "x-request-id",
    "www-authenticate",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
}
READ_PATHS = [
    "/",
    "/v1",
    "/v1/drugs",
    "/v1/indications?limit=2",
    "/v1/evidence-levels",
    "/v1/search?q=naltrexone",
    "/v1/dose-check?amount=4.5&unit=mg&frequency=daily",
    "/problems",
    "/fhir/R4/metadata",
    "/fhir/R4/MedicationKnowledge",
    "/infobutton?mainSearchCriteria.v.c=F32.9&mainSearchCriteria.v.cs=2.16.840.1.113883.6.90",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/cds-services",
]


def _list(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


def _assert_open(response: object, path: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers.get("access-control-allow-origin") == "*", path
    assert _list(headers["access-control-expose-headers"]) >= EXPOSED, path
    assert "access-control-allow-credentials" not in headers, path


@pytest.fixture(scope="module")
def door_app(settings: Settings) -> KnowledgeApp:
    return create_app(settings.model_copy(update={"content_check_interval": 60}))


@pytest.fixture(scope="module")
def door(door_app: KnowledgeApp) -> Iterator[TestClient]:
    with TestClient(door_app) as client:
        yield client


@pytest.mark.parametrize("path", READ_PATHS)
def test_the_public_api_is_open_to_any_origin_by_default(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": ORIGIN})
    assert response.status_code == 200, response.text
    _assert_open(response, path)
    # The answer does not depend on Origin, so a shared cache need not vary on it.
    assert "origin" not in _list(response.headers.get("vary", ""))
    head = client.head(path, headers={"Origin": ORIGIN})
    assert head.status_code == 200 and head.headers["access-control-allow-origin"] == "*"


def test_cache_hits_and_304s_from_the_front_door_carry_the_same_cors_headers(
    door_app: KnowledgeApp, door: TestClient
) -> None:
    front = door_app.front_door
    assert front is not None
    path = "/v1/regimens?limit=3"
    first = door.get(path, headers={"Origin": ORIGIN})
    before = front.answered
    hit = door.get(path, headers={"Origin": ORIGIN})
    not_modified = door.get(path, headers={"Origin": ORIGIN, "If-None-Match": first.headers["etag"]})
    plain_hit = door.get(path)
    assert front.answered == before + 3, "answered before the stack"
    assert not_modified.status_code == 304
    for response in (first, hit, not_modified, plain_hit):
        _assert_open(response, path)
    cors = [(k, v) for k, v in first.headers.items() if k.startswith("access-control-")]
    assert [(k, v) for k, v in hit.headers.items() if k.startswith("access-control-")] == cors
    assert [(k, v) for k, v in not_modified.headers.items() if k.startswith("access-control-")] == cors


@pytest.mark.parametrize(
    ("path", "method", "request_headers"),
    [
        ("/v1/indications", "GET", "if-none-match"),
        ("/v1/dose-check", "POST", "content-type"),
        ("/fhir/R4/MedicationKnowledge/_search", "POST", "content-type"),
        ("/infobutton", "GET", "accept"),
        ("/openapi.json", "GET", ""),
    ],
)
def test_preflights_are_answered(client: TestClient, path: str, method: str, request_headers: str) -> None:
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    response = client.options(path, headers=headers)
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert method.lower() in _list(response.headers["access-control-allow-methods"])
    allowed = _list(response.headers["access-control-allow-headers"])
    assert "*" in allowed and (not request_headers or request_headers in allowed)
    assert int(response.headers["access-control-max-age"]) > 0
    assert response.content == b""


def test_a_plain_options_is_answered_with_allow_not_405(client: TestClient) -> None:
    response = client.options("/v1/drugs")
    assert response.status_code == 204
    assert _list(response.headers["allow"]) == {"get", "head", "options"}
    assert _list(client.options("/v1/dose-check").headers["allow"]) == {"get", "head", "post", "options"}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/cds-services", {"get", "head"}),
        ("/cds-services/ldn-kb-order-sign", {"post"}),
        ("/cds-services/ldn-kb-order-sign/feedback", {"post"}),
        ("/fhir/R4/$export-status/some-job", {"get", "head", "delete"}),
        ("/fhir/R4/MedicationKnowledge/_search", {"post"}),
    ],
)
def test_allow_names_exactly_the_methods_of_the_resource(client: TestClient, path: str, methods: set[str]) -> None:
    """RFC 9110: Allow lists the methods the target resource supports, not those of its path family."""
    response = client.options(path)
    assert response.status_code == 204
    assert _list(response.headers["allow"]) == methods | {"options"}


def test_cds_hooks_allow_authorization_from_a_browser(client: TestClient) -> None:
    discovery = client.get("/cds-services", headers={"Origin": ORIGIN})
    _assert_open(discovery, "/cds-services")
    service = discovery.json()["services"][0]["id"]
    for path in (f"/cds-services/{service}", f"/cds-services/{service}/feedback"):
        preflight = client.options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "post" in _list(preflight.headers["access-control-allow-methods"])
        # A wildcard never covers Authorization: it is named.
        assert {"authorization", "content-type"} <= _list(preflight.headers["access-control-allow-headers"])
    answer = client.post(f"/cds-services/{service}", json={}, headers={"Origin": ORIGIN})
    assert answer.status_code in {400, 422}
    _assert_open(answer, "a CDS error")


def test_read_paths_do_not_invite_authorization_and_platform_paths_are_not_cors(client: TestClient) -> None:
    preflight = client.options(
        "/v1/drugs",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x"},
    )
    assert "authorization" not in _list(preflight.headers["access-control-allow-headers"])
    for path in ("/metrics", "/healthz", "/readyz"):
        assert "access-control-allow-origin" not in client.get(path, headers={"Origin": ORIGIN}).headers


def test_errors_are_readable_from_a_browser(client: TestClient) -> None:
    for path in ("/v1/drugs/nope", "/v1/drugs?bogus=1"):
        response = client.get(path, headers={"Origin": ORIGIN})
        assert response.status_code in {400, 404}
        _assert_open(response, path)


def test_a_list_of_origins_restricts_and_varies(settings: Settings) -> None:
    other = "https://other.example"
    app = create_app(
        settings.model_copy(update={"cors_origins": ["https://Frontend.example/", "http://localhost:5173"]})
    )
    with TestClient(app) as client:
        allowed = client.get("/v1/drugs", headers={"Origin": ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "origin" in _list(allowed.headers["vary"])
        assert _list(allowed.headers["access-control-expose-headers"]) >= EXPOSED
        refused = client.get("/v1/drugs", headers={"Origin": other})
        assert refused.status_code == 200 and "access-control-allow-origin" not in refused.headers
        preflight = client.options("/v1/drugs", headers={"Origin": other, "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in preflight.headers
        assert "origin" in _list(client.get("/v1/drugs").headers["vary"])


def test_cors_can_be_turned_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": []}))
    with TestClient(app) as client:
        response = client.get("/v1/drugs", headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in response.headers
        assert client.get("/v1/drugs", headers={"Origin": ORIGIN}).status_code == 200
        assert (
            client.options("/v1/drugs", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}).status_code
            == 405
        )


def test_the_setting_reads_a_comma_separated_list_and_rejects_what_is_not_an_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LDNKB_CORS_ORIGINS", "https://a.example, http://localhost:5173")
    assert Settings().cors_origins == ["https://a.example", "http://localhost:5173"]
    monkeypatch.setenv("LDNKB_CORS_ORIGINS", "")
    assert Settings().cors_origins == []
    monkeypatch.delenv("LDNKB_CORS_ORIGINS")
    assert Settings().cors_origins == ["*"]
    for bad in ("a.example", "https://a.example/path", "https://*.example"):
        monkeypatch.setenv("LDNKB_CORS_ORIGINS", bad)
        with pytest.raises(ValidationError, match="not an origin"):
            Settings()


def test_the_static_headers_by_path_are_the_familys_and_their_memo_stays_bounded() -> None:
    from app.api import cors

    policy = cors.CorsPolicy(["*"])
    paths = ["/", "/v1/search", "/v1/conditions/fibromyalgia", "/fhir/R4/metadata", "/cds-services", "/metrics"]
    paths += [f"/v1/conditions/x{i}" for i in range(3 * cors.STATIC_MEMO_MAX)] + [f"/nowhere/{i}" for i in range(50)]
    for path in paths + paths[:10]:
        expected = policy._any if cors.CorsPolicy.family(path) is not None else []
        assert policy.static_headers(path) == expected, path
    assert 0 < len(policy._static) <= cors.STATIC_MEMO_MAX
    assert cors.CorsPolicy(["https://a.example"]).static_headers("/v1/search") == []  # depends on the origin
