"""Plain dose checks and CDS calls answered at the front door (app/api/front_door_posts.py) are the stack's
answers, byte for byte and header for header; everything the door leaves to the stack is answered there,
as documented, with the body it already read.

Two apps over one store, one of them with the front door's POST answers switched off: every request below
gets the same status, body and headers (but the request id) from both, and the door's own count says
which path answered."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.api.front_door import KnowledgeApp
from app.api.front_door_posts import PostAnswers
from app.main import create_app
from app.observability.logging import ACCESS_LOGGER
from app.settings import Settings
from tests.integrations.fixtures.cds_requests import medication_request, order_select, order_sign

DOSE = "/v1/dose-check"
SIGN = "/cds-services/ldn-kb-order-sign"
SELECT = "/cds-services/ldn-kb-order-select"
ORIGIN = "https://frontend.example"


def _apps(settings: Settings, **update: Any) -> tuple[KnowledgeApp, KnowledgeApp]:
    """(door, stack): the app as deployed (content version re-read every minute), and the same app with the
    front door's POST answers off."""
    changed = settings.model_copy(update={"content_check_interval": 60, **update})
    door, stack = create_app(changed), create_app(changed)
    assert door.front_door is not None and stack.front_door is not None
    stack.front_door.posts = None
    return door, stack


def _posts(app: KnowledgeApp) -> PostAnswers:
    assert app.front_door is not None and app.front_door.posts is not None
    return app.front_door.posts


@pytest.fixture(scope="module")
def pair(settings: Settings) -> Iterator[tuple[TestClient, TestClient, PostAnswers]]:
    door, stack = _apps(settings)
    with TestClient(door) as a, TestClient(stack) as b:
        yield a, b, _posts(door)


def _seen(client: TestClient, path: str, raw: bytes, **headers: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    response = client.post(path, content=raw, headers={"Content-Type": "application/json", **headers})
    body = response.content
    if response.headers.get("content-type") == "application/problem+json":
        problem = response.json()
        problem.pop("instance", None)  # names the request
        body = json.dumps(problem, sort_keys=True).encode()
    kept = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, body, kept


def ldn(dose_mg: float = 4.5) -> dict[str, Any]:
    return medication_request("ldn-1", "naltrexone 4.5 MG by mouth nightly", dose_mg=dose_mg, timing_text="nightly")


def oxycodone() -> dict[str, Any]:
    return medication_request("oxy-1", "oxycodone 5 MG Oral Tablet", dose_mg=5, frequency=4)


def _dose_bodies() -> list[bytes]:
    rnd = random.Random(11)
    shapes = [
        ("mg", "daily", "oral"),
        ("mcg", "BID", None),
        ("mg", "every 4 weeks", "intramuscular"),
        ("ug", "weekly", "oral"),
        ("mg", "every other day", "injection"),
    ]
    bodies: list[dict[str, Any]] = [
        {"amount": round(rnd.uniform(0.01, 600), 2), "unit": unit, "frequency": frequency, "route": route}
        for unit, frequency, route in shapes
        for _ in range(3)
    ]
    bodies.append({"amount": "0.1", "unit": "mg/kg", "frequency": "daily", "weight_kg": "20"})
    bodies.append({"schedule": "50 mg weekdays + 100 mg Saturday", "route": "oral"})
    return [json.dumps(body).encode() for body in bodies]


def _cds_bodies() -> list[tuple[str, bytes]]:
    calls = [
        (SIGN, order_sign(ldn())),
        (SIGN, order_sign(ldn(), oxycodone())),
        (SIGN, order_sign(ldn(dose_mg=1000))),
        (SIGN, order_sign(oxycodone())),
        (SELECT, order_select(ldn(), selections=["MedicationRequest/ldn-1"])),
    ]
    return [(path, json.dumps(body).encode()) for path, body in calls]


def test_plain_checks_and_calls_are_answered_at_the_door_as_the_stack_answers_them(
    pair: tuple[TestClient, TestClient, PostAnswers],
) -> None:
    door, stack, posts = pair
    requests = [(DOSE, raw) for raw in _dose_bodies()] + _cds_bodies()
    before = posts.answered
    for path, raw in requests:
        got, expected = _seen(door, path, raw), _seen(stack, path, raw)
        assert got == expected, (path, raw)
        assert got[0] == 200, (path, got[1][:300])
    assert posts.answered - before == len(requests), "every plain request was answered at the door"
    headers = dict(expected[2])
    assert headers["access-control-allow-origin"] == "*" and headers["x-content-type-options"] == "nosniff"
    # What a browser or an EHR adds: a charset, an Origin (CORS open to any origin), Accept */*, a request id.
    variants = [
        {"Content-Type": "application/json; charset=utf-8"},
        {"Origin": ORIGIN, "Accept": "*/*"},
        {"Accept": "application/json", "X-Request-ID": "ehr-1"},
    ]
    before = posts.answered
    for extra in variants:
        for path, raw in [(DOSE, _dose_bodies()[0]), _cds_bodies()[1]]:
            got = _seen(door, path, raw, **extra)
            assert got == _seen(stack, path, raw, **extra) and got[0] == 200, (path, extra)
    assert posts.answered - before == 2 * len(variants)


def _deep(levels: int) -> bytes:
    return b'{"amount": ' + b"[" * levels + b"]" * levels + b', "unit": "mg", "frequency": "daily"}'


#: (name, path, raw body, extra headers): what the door leaves to the stack, each for its own reason.
LEFT: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("a dose the domain refuses (422)", DOSE, b'{"amount": -1, "unit": "mg", "frequency": "daily"}', {}),
    ("an unknown unit (422)", DOSE, b'{"amount": 4.5, "unit": "furlongs", "frequency": "daily"}', {}),
    ("a field too many (422)", DOSE, b'{"amount": 4.5, "unit": "mg", "frequency": "daily", "x": 1}', {}),
    ("not JSON (422)", DOSE, b'{"amount": 4.5,', {}),
    ("not UTF-8 (422)", DOSE, b'{"amount": "\xff"}', {}),
    ("an empty body (422)", DOSE, b"", {}),
    ("nested too deep (400)", DOSE, _deep(100), {}),
    ("a body over the cap (413)", DOSE, b'{"amount": 4.5, "pad": "' + b"x" * 300_000 + b'"}', {}),
    (
        "an Accept without JSON (406)",
        DOSE,
        b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}',
        {"Accept": "text/html"},
    ),
    ("another content type (415)", DOSE, b'{"amount": 4.5}', {"Content-Type": "text/plain"}),
    (
        "a Host not answered for (400)",
        DOSE,
        b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}',
        {"Host": "evil.example"},
    ),
    ("a CDS call for another hook (400)", SIGN, json.dumps({**order_sign(ldn()), "hook": "patient-view"}).encode(), {}),
    ("a CDS call without hookInstance (422)", SIGN, json.dumps({"hook": "order-sign", "context": {}}).encode(), {}),
    ("a CDS service that does not exist (404)", "/cds-services/nope", json.dumps(order_sign(ldn())).encode(), {}),
]


@pytest.mark.parametrize(("name", "path", "raw", "headers"), LEFT, ids=[case[0] for case in LEFT])
def test_what_the_door_leaves_is_answered_by_the_stack_as_documented(
    pair: tuple[TestClient, TestClient, PostAnswers], name: str, path: str, raw: bytes, headers: dict[str, str]
) -> None:
    door, stack, posts = pair
    before = posts.answered
    got, expected = _seen(door, path, raw, **headers), _seen(stack, path, raw, **headers)
    assert got == expected, name
    assert got[0] >= 400, (name, got[1][:300])
    assert posts.answered == before, f"{name}: answered at the door"


def test_query_strings_and_chunked_bodies_go_to_the_stack(pair: tuple[TestClient, TestClient, PostAnswers]) -> None:
    door, stack, posts = pair
    raw = b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}'
    before = posts.answered
    assert _seen(door, DOSE + "?_=1", raw) == _seen(stack, DOSE + "?_=1", raw)
    chunked = door.post(DOSE, content=iter([raw[:10], raw[10:]]), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 200 and chunked.json()["data"]["documented"] is True
    assert posts.answered == before


def _problem_of(response: Any) -> tuple[int, str, dict[str, Any]]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    problem.pop("instance", None)
    return response.status_code, problem["type"], problem


_PLAIN_DOSE = b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}'


@pytest.mark.parametrize("path", [DOSE, SIGN])
@pytest.mark.parametrize(
    ("name", "headers", "encode"),
    [
        ("json then text", [("content-type", "application/json"), ("content-type", "text/plain")], False),
        ("text then json", [("content-type", "text/plain"), ("content-type", "application/json")], False),
        ("json twice", [("content-type", "application/json"), ("content-type", "application/json")], False),
        ("a gzip-encoded body", [("content-type", "application/json"), ("content-encoding", "gzip")], True),
        ("an unknown coding", [("content-type", "application/json"), ("content-encoding", "br")], False),
    ],
)
def test_one_rule_for_the_body_s_media_type_at_the_door_and_in_the_stack(
    pair: tuple[TestClient, TestClient, PostAnswers],
    path: str,
    name: str,
    headers: list[tuple[str, str]],
    encode: bool,
) -> None:
    """A body's media type is read once, one way: two Content-Type headers or a content coding are a 415
    with the same problem from the front door and from the stack, never a 200 from one of them."""
    import gzip

    door, stack, _ = pair
    raw = _PLAIN_DOSE if path == DOSE else json.dumps(order_sign(ldn())).encode()
    body = gzip.compress(raw) if encode else raw
    got = _problem_of(door.post(path, content=body, headers=headers))
    expected = _problem_of(stack.post(path, content=body, headers=headers))
    assert got == expected, name
    assert got[0] == 415 and got[1].endswith("unsupported-media-type"), (name, got)


@pytest.mark.parametrize("path", [DOSE, SIGN])
def test_a_json_syntax_error_names_the_body_and_the_place(
    pair: tuple[TestClient, TestClient, PostAnswers], path: str
) -> None:
    door, stack, _ = pair
    raw = b'{"amount": 4.5, "unit": "mg", "frequency": "daily",'
    got = _problem_of(door.post(path, content=raw, headers={"Content-Type": "application/json"}))
    assert got == _problem_of(stack.post(path, content=raw, headers={"Content-Type": "application/json"}))
    status, _, problem = got
    assert status == 422 and "not valid JSON" in problem["detail"], problem
    assert [e["field"] for e in problem["errors"]] == ["body"]
    assert not any(ch.isdigit() for ch in problem["detail"].split("JSON")[0]), problem["detail"]


def test_request_ids_are_echoed_and_answers_counted_and_logged_under_their_route(
    pair: tuple[TestClient, TestClient, PostAnswers], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    door, _, posts = pair
    app = door.app
    assert isinstance(app, KnowledgeApp)
    app.state.observer.flush()
    stream = io.StringIO()
    app.state.access_log.stream = stream
    before = posts.answered
    try:
        for path, raw in [(DOSE, _dose_bodies()[0]), *_cds_bodies()[:1]]:
            answer = door.post(
                path, content=raw, headers={"Content-Type": "application/json", "X-Request-ID": "post-7"}
            )
            assert answer.status_code == 200 and answer.headers["x-request-id"] == "post-7"
        made = door.post(DOSE, content=_dose_bodies()[1], headers={"Content-Type": "application/json"})
        assert made.headers["x-request-id"] and made.headers["x-request-id"] != "post-7"
        app.state.observer.flush()
    finally:
        app.state.access_log.stream = None
    assert posts.answered == before + 3
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    logged = [(line["route"], line["status"], line["method"]) for line in lines if line["request_id"] == "post-7"]
    assert logged == [(DOSE, 200, "POST"), ("/cds-services/{service_id}", 200, "POST")]


def test_a_rate_limit_is_left_to_the_guard(settings: Settings) -> None:
    door, _ = _apps(settings, rate_limit_posts=3)
    raw = b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}'
    with TestClient(door) as client:
        statuses = [
            client.post(DOSE, content=raw, headers={"Content-Type": "application/json"}).status_code for _ in range(4)
        ]
    assert statuses == [200, 200, 200, 429]
    assert _posts(door).answered == 0


def test_with_cors_for_listed_origins_a_request_with_origin_goes_to_the_stack(settings: Settings) -> None:
    door, stack = _apps(settings, cors_origins=[ORIGIN])
    raw = _dose_bodies()[0]
    with TestClient(door) as a, TestClient(stack) as b:
        with_origin = _seen(a, DOSE, raw, Origin=ORIGIN)
        assert with_origin == _seen(b, DOSE, raw, Origin=ORIGIN)
        assert (("access-control-allow-origin", ORIGIN)) in with_origin[2]
        assert _posts(door).answered == 0
        plain = _seen(a, DOSE, raw)
        assert plain == _seen(b, DOSE, raw) and ("vary", "Origin") in plain[2]
        assert _posts(door).answered == 1


def test_with_a_check_at_every_request_the_stack_answers(settings: Settings) -> None:
    """Interval 0: every answer looks at the store first, which the door never does on the event loop."""
    app = create_app(settings.model_copy(update={"content_check_interval": 0}))
    with TestClient(app) as client:
        assert (
            client.post(DOSE, content=_dose_bodies()[0], headers={"Content-Type": "application/json"}).status_code
            == 200
        )
    assert _posts(app).answered == 0


def test_a_slow_body_read_at_the_door_gets_the_guards_408_at_the_same_deadline(settings: Settings) -> None:
    """The door reads the first part, the rest does not come: the stack's guard answers 408 when the one read
    time is over, not a second read time later."""
    timeout = 0.6
    door, _ = _apps(settings, body_read_timeout=timeout)
    raw = b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}'

    async def call() -> tuple[int, float, dict[bytes, bytes]]:
        sent: list[dict[str, Any]] = []
        parts = [{"type": "http.request", "body": raw[:12], "more_body": True}]

        async def receive() -> dict[str, Any]:
            if parts:
                return parts.pop(0)
            await asyncio.sleep(30)  # the rest never comes
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": DOSE,
            "raw_path": DOSE.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        async with door.router.lifespan_context(door):
            started = time.perf_counter()
            await door(scope, receive, send)  # type: ignore[arg-type]
            took = time.perf_counter() - started
        return sent[0]["status"], took, dict(sent[0]["headers"])

    status, took, headers = asyncio.run(call())
    assert status == 408 and headers[b"connection"] == b"close"
    assert headers[b"x-content-type-options"] == b"nosniff" and headers[b"x-request-id"]
    assert timeout * 0.9 < took < timeout * 1.75, f"408 after {took:.2f} s: the read time was given twice"
    assert _posts(door).answered == 0
