"""The dose-check shortcut (app/api/v1/dose_check.py) answers exactly as the documented route does.

Two apps over the same store, one with the shortcut taken out of its router: every body below gets the same
status, body and headers (but the request id) from both. Valid bodies must have been answered by the
shortcut; bodies that do not parse or validate, other content types and query strings go to the documented
route (its 422s, with FastAPI's field locations), through the replayed body.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.v1.dose_check import DoseCheckShortcut
from app.main import create_app
from app.settings import Settings

PATH = "/v1/dose-check"


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, content_check_interval=60, access_log=False)


@pytest.fixture(scope="module")
def clients(settings: Settings) -> Iterator[tuple[TestClient, TestClient, DoseCheckShortcut]]:
    fast = create_app(settings)
    documented = create_app(settings)
    for app in (fast, documented):  # the route itself here; the front door's answers: test_front_door_posts.py
        assert app.front_door is not None
        app.front_door.posts = None
    (shortcut,) = [r for r in fast.router.routes if isinstance(r, DoseCheckShortcut)]
    documented.router.routes[:] = [r for r in documented.router.routes if not isinstance(r, DoseCheckShortcut)]
    with TestClient(fast) as a, TestClient(documented) as b:
        yield a, b, shortcut


def _bodies() -> list[bytes]:
    rnd = random.Random(7)
    bodies = [
        {"amount": round(rnd.uniform(0.05, 500), 3), "unit": unit, "frequency": freq, "route": route}
        for unit, freq, route in [
            ("mg", "daily", "oral"),
            ("mcg", "BID", None),
            ("mg", "every 4 weeks", "intramuscular"),
            ("ug", "weekly", "oral"),
            ("mg", "every other day", "po"),
        ]
        for _ in range(4)
    ]
    bodies += [{"amount": "4.5", "unit": "mg/kg", "frequency": "daily", "route": "oral", "weight_kg": 30}]
    bodies += [{"schedule": "50 mg weekdays + 100 mg Saturday", "route": "oral"}]
    return [json.dumps(b).encode() for b in bodies]


_INVALID = [
    b'{"amount": "4_5", "unit": "mg", "frequency": "daily"}',
    b'{"amount": 4.5, "unit": "mg"}',
    b'{"amount": 4.5, "unit": "furlongs", "frequency": "daily"}',
    b'{"amount": -1, "unit": "mg", "frequency": "daily"}',
    b'{"amount": 4.5, "unit": "mg", "frequency": "daily", "extra": 1}',
    b'{"amount": [4.5], "unit": "mg", "frequency": "daily"}',
    b"[]",
    b"not json",
    b'{"amount": 4.5,',
    b"\xff\xfe",
    b"",
]


def _post(
    client: TestClient, raw: bytes, content_type: str = "application/json", query: str = ""
) -> tuple[int, bytes, dict[str, str]]:
    response = client.post(PATH + query, content=raw, headers={"Content-Type": content_type})
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    body = response.content
    if response.headers.get("content-type") == "application/problem+json":
        problem = response.json()
        problem.pop("instance", None)
        body = json.dumps(problem, sort_keys=True).encode()
    return response.status_code, body, headers


def test_valid_bodies_are_answered_by_the_shortcut_as_documented(
    clients: tuple[TestClient, TestClient, DoseCheckShortcut],
) -> None:
    a, b, shortcut = clients
    before = shortcut.answered
    bodies = _bodies()
    for raw in bodies:
        fast, slow = _post(a, raw), _post(b, raw)
        assert fast == slow, raw
        assert fast[0] == 200, (raw, fast[1][:300])
    assert shortcut.answered - before == len(bodies)


@pytest.mark.parametrize("raw", _INVALID)
def test_invalid_bodies_reach_the_documented_errors(
    clients: tuple[TestClient, TestClient, DoseCheckShortcut], raw: bytes
) -> None:
    a, b, _ = clients
    fast, slow = _post(a, raw), _post(b, raw)
    assert fast == slow
    assert fast[0] in (400, 422), fast


def test_other_content_types_and_query_strings_go_to_the_documented_route(
    clients: tuple[TestClient, TestClient, DoseCheckShortcut],
) -> None:
    a, b, shortcut = clients
    raw = b'{"amount": 4.5, "unit": "mg", "frequency": "daily"}'
    before = shortcut.answered
    for content_type, query in [("text/plain", ""), ("application/json", "?unknown=1"), ("application/json", "?_=1")]:
        assert _post(a, raw, content_type, query) == _post(b, raw, content_type, query)
    assert shortcut.answered == before
