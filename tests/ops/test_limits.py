"""The request guard over the real app (SQLite and PostgreSQL): body caps, JSON depth, rate limits, the
error boundary, HSTS, and the JWT checks (issue 13, rows 1, 5, 6, 9, 11, 12)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.api.limits import json_depth, too_deep
from app.api.ratelimit import RateLimiter
from app.integrations.cds_hooks.auth import PUBLIC_DETAIL
from app.main import create_app
from app.models import CdsFeedback, UsedJwtId
from app.services.cds_records import jwt_id_key
from app.settings import Settings
from tests.integrations.fixtures.cds_requests import medication_request, order_sign

SIGN = "/cds-services/ldn-kb-order-sign"
FEEDBACK = SIGN + "/feedback"
ISSUER = "https://ehr.example.org"
DEEP = b"[" * 10_000 + b"]" * 10_000


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == status
    # Every answer, refusals included, keeps the security headers and the request id.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    return body


def feedback_body(card: str = "c-1") -> dict[str, Any]:
    item = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-26T12:00:00Z"}
    return {
        "feedback": [
            {
                **item,
                "overrideReason": {
                    "reason": {"system": "urn:ldn-kb:cds-override-reason", "code": "dose-confirmed"},
                    "userComment": "declined",
                },
            }
        ]
    }


@pytest.fixture(scope="module")
def limited(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """The app with small caps and a feedback limit of 5 a minute (the module's store, already loaded)."""
    tight = settings.model_copy(
        update={"rate_limit_feedback": 5, "rate_limit_window": 60, "body_limit_feedback": 4096, "json_max_depth": 32}
    )
    with TestClient(create_app(tight)) as limited_client:
        yield limited_client


def test_json_depth_counts_without_recursion() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[[[["}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(DEEP) == 10_000
    assert json_depth(b"") == 0
    assert not too_deep(b"[[1]]", 2) and too_deep(b"[[[1]]]", 2) and not too_deep(b'["[[[[", "]]]]"]', 2)


@pytest.mark.parametrize("path", [SIGN, FEEDBACK, "/v1/dose-check", "/fhir/R4/MedicationKnowledge/_search"])
def test_a_10000_deep_body_is_a_400_everywhere(client: TestClient, path: str) -> None:
    response = client.post(path, content=DEEP, headers={"Content-Type": "application/json"})
    if path.startswith("/fhir"):
        assert response.status_code == 400
        assert response.json()["resourceType"] == "OperationOutcome"
        return
    problem(response, 400, "json-too-deep")


def test_body_caps_by_route_family(client: TestClient, settings: Settings) -> None:
    big = b'{"feedback": "' + b"x" * settings.body_limit_feedback + b'"}'
    response = client.post(FEEDBACK, content=big, headers={"Content-Type": "application/json"})
    body = problem(response, 413, "payload-too-large")
    assert str(settings.body_limit_feedback) in body["detail"]
    assert response.headers["connection"] == "close"
    # A CDS call may be larger than feedback, up to its own cap.
    call = order_sign(medication_request("ldn-1", "naltrexone 4.5 MG nightly", dose_mg=4.5))
    call["padding"] = "x" * (settings.body_limit_feedback * 2)
    assert client.post(SIGN, json=call).status_code == 200
    call["padding"] = "x" * settings.body_limit_cds
    problem(client.post(SIGN, json=call), 413, "payload-too-large")


def test_a_body_without_length_is_cut_off_at_the_cap(client: TestClient) -> None:
    # (The test client sends the chunks it is given all at once; tests/ops/test_faults.py streams them.)
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b" " * 65536

    response = client.post(FEEDBACK, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    problem(response, 413, "payload-too-large")


def test_the_cap_comes_before_authentication(settings: Settings, client: TestClient, tmp_path: Path) -> None:
    secured = settings.model_copy(update={"cds_trusted_issuers": {ISSUER: str(tmp_path / "absent.json")}})
    with TestClient(create_app(secured)) as secured_client:
        big = b"[" + b"0," * settings.body_limit_cds + b"0]"
        problem(
            secured_client.post(FEEDBACK, content=big, headers={"Content-Type": "application/json"}),
            413,
            "payload-too-large",
        )
        problem(
            secured_client.post(SIGN, content=DEEP, headers={"Content-Type": "application/json"}), 400, "json-too-deep"
        )
        problem(secured_client.post(FEEDBACK, json=feedback_body()), 401, "unauthorized")


def test_feedback_flood_is_rate_limited(limited: TestClient, app: FastAPI) -> None:
    with Session(app.state.engine) as session:
        before = session.scalar(select(func.count()).select_from(CdsFeedback))
    statuses = []
    for n in range(20):
        response = limited.post(FEEDBACK, json=feedback_body(f"flood-{n}"))
        statuses.append(response.status_code)
        assert response.headers["ratelimit-policy"] == '"feedback";q=5;w=60'
        assert response.headers["ratelimit"].startswith('"feedback";r=')
    assert statuses == [200] * 5 + [429] * 15
    body = problem(response, 429, "too-many-requests")
    assert "5 every 60 s" in body["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 12
    assert response.headers["ratelimit"] == f'"feedback";r=0;t={response.headers["ratelimit"].rsplit("=", 1)[1]}'
    with Session(app.state.engine) as session:
        after = session.scalar(select(func.count()).select_from(CdsFeedback))
    assert after is not None and before is not None and after == before + 5
    # Other routes are not limited by default.
    assert (
        limited.post(SIGN, json=order_sign(medication_request("x", "naltrexone 4.5 MG", dose_mg=4.5))).status_code
        == 200
    )


def test_a_throttled_fhir_client_gets_an_operation_outcome(settings: Settings, client: TestClient) -> None:
    """Under /fhir a 429 is an OperationOutcome with issue code ``throttled`` (R4 issue-type), not ``invalid``,
    and keeps Retry-After and the RateLimit fields."""
    tight = settings.model_copy(update={"rate_limit_posts": 2, "rate_limit_window": 60})
    with TestClient(create_app(tight)) as fhir_client:
        search = "/fhir/R4/MedicationKnowledge/_search"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        statuses = [fhir_client.post(search, content=b"_count=1", headers=form).status_code for _ in range(2)]
        response = fhir_client.post(search, content=b"_count=1", headers=form)
    assert statuses == [200, 200]
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert [(i["severity"], i["code"]) for i in body["issue"]] == [("error", "throttled")]
    assert "2 every 60 s" in body["issue"][0]["diagnostics"]
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-policy"] == '"post";q=2;w=60'


def test_the_limiter_is_bounded_and_refills() -> None:
    limiter = RateLimiter("t", limit=2, window=10, max_clients=100)
    for n in range(10_000):
        limiter.take(f"10.0.{n // 256}.{n % 256}", now=0.0)
    assert len(limiter) == 100
    assert limiter.take("a", now=0).allowed and limiter.take("a", now=0).allowed
    refused = limiter.take("a", now=0)
    assert not refused.allowed and refused.retry_after == 5 and refused.remaining == 0
    assert limiter.take("a", now=5.0).allowed  # one token back after window / limit seconds


def test_an_unexpected_error_is_a_well_formed_500_with_headers(settings: Settings, client: TestClient) -> None:
    app = create_app(settings)

    @app.get("/test/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=True) as test_client:
        response = test_client.get("/test/boom")
        body = problem(response, 500, "internal-error")
        assert "secret" not in response.text
        assert body["detail"] == "An unexpected error occurred."
        assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_hsts_when_the_public_base_url_is_https(settings: Settings, client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    https = settings.model_copy(update={"public_base_url": "https://kb.example.org"})
    with TestClient(create_app(https)) as https_client:
        for path in ("/healthz", "/v1/regimens", "/v1/regimens", "/nope"):  # the second from the cache
            assert https_client.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_metrics_moved_to_their_own_port_are_not_on_the_public_one(settings: Settings, client: TestClient) -> None:
    moved = settings.model_copy(update={"metrics_port": 1})  # never bound: no lifespan in this client
    app = create_app(moved)
    problem(TestClient(app).get("/metrics"), 404, "not-found")


# --- JWT checks (row 11) -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    private = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "key-1", "alg": "ES384", "use": "sig"})
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return private, path


@pytest.fixture(scope="module")
def secured(settings: Settings, keys: tuple[Any, Path], client: TestClient) -> Iterator[TestClient]:
    update = {"cds_trusted_issuers": {ISSUER: str(keys[1])}, "public_base_url": "https://kb.example.org"}
    with TestClient(create_app(settings.model_copy(update=update))) as secured_client:
        yield secured_client


def token(private: Any, *, kid: str = "key-1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": f"https://kb.example.org{SIGN}",
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
        **overrides,
    }
    return jwt.encode(claims, private, algorithm="ES384", headers={"kid": kid, "typ": "JWT"})


def call(client: TestClient, bearer: str, **headers: str) -> Any:
    body = order_sign(medication_request("ldn-1", "naltrexone 4.5 MG nightly", dose_mg=4.5))
    return client.post(SIGN, json=body, headers={"Authorization": f"Bearer {bearer}", **headers})


def test_every_refusal_says_the_same(secured: TestClient, keys: tuple[Any, Path]) -> None:
    private = keys[0]
    now = int(time.time())
    cases = {
        "untrusted issuer": token(private, iss="https://evil.example"),
        "unknown kid": token(private, kid="Some-KID-Chosen-By-The-Caller"),
        "exp as a numeric string": token(private, exp=str(now + 300)),
        "iat as a numeric string": token(private, iat=str(now)),
        "nbf as a numeric string": token(private, nbf=str(now)),
        "jti as a number": token(private, jti=12345),
        "empty jti": token(private, jti=""),
        "blank jti": token(private, jti="   "),
        "aud for the Host the caller named": token(private, aud=f"http://testserver{SIGN}"),
        "aud for another host": token(private, aud=f"https://evil.example{SIGN}"),
    }
    for name, bearer in cases.items():
        response = call(secured, bearer)
        body = problem(response, 401, "unauthorized")
        assert body["detail"] == PUBLIC_DETAIL.capitalize() + ".", name
        assert "kid" not in response.text.lower() and "evil" not in response.text, name
    # The public base URL's audience is the one accepted, whatever Host the caller sends.
    assert call(secured, token(private), Host="evil.example").status_code == 200


def test_long_jtis_do_not_collide(secured: TestClient, keys: tuple[Any, Path], app: FastAPI) -> None:
    prefix = "j" * 400
    first, second = token(keys[0], jti=prefix + "-1"), token(keys[0], jti=prefix + "-2")
    assert call(secured, first).status_code == 200
    assert call(secured, second).status_code == 200, "a distinct jti sharing 255 characters was taken for a replay"
    assert call(secured, first).status_code == 401  # the replay still is one
    with Session(app.state.engine) as session:
        stored = session.scalars(select(col(UsedJwtId.jti))).all()
    assert any(jwt_id_key(ISSUER, prefix + "-1") in jti for jti in stored)


def test_the_spec_tells_the_limits(app: FastAPI, settings: Settings) -> None:
    paths = app.openapi()["paths"]
    feedback = paths["/cds-services/{service_id}/feedback"]["post"]["responses"]
    assert str(settings.body_limit_feedback) in feedback["413"]["description"]
    assert set(feedback["429"]["headers"]) == {"Retry-After", "RateLimit-Policy", "RateLimit"}
    assert "408" in feedback and "503" in feedback and "nested deeper" in feedback["400"]["description"]
    dose = paths["/v1/dose-check"]["post"]["responses"]
    assert str(settings.body_limit_default) in dose["413"]["description"] and "429" not in dose
    assert paths["/v1/regimens"]["get"]["responses"]["503"]["headers"]["Retry-After"]


def test_the_guard_limits_url_and_headers_behind_any_server(client: TestClient, settings: Settings) -> None:
    # `ldn-kb serve` refuses these before the app (tests/ops/test_faults.py); behind another server the guard does.
    long_query = "a" * settings.max_url_bytes
    body = problem(client.get(f"/v1/regimens?q={long_query}"), 414, "uri-too-long")
    assert str(settings.max_url_bytes) in body["detail"]
    response = client.get("/healthz", headers={"X-Big": "b" * settings.max_header_bytes})
    problem(response, 431, "headers-too-large")
    assert response.headers["connection"] == "close"
