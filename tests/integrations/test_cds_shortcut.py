"""The CDS call shortcut answers exactly as the documented route, and leaves everything unusual to it.

Each body is sent twice: as ``application/json`` (the shortcut may answer) and as
``application/vnd.test+json``, which FastAPI parses as JSON too but the shortcut declines, so the
documented route answers. Status, body and headers (but the request id) must be equal, and the
shortcut's own count says which of the two paths answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.integrations.cds_hooks.shortcut import CdsCallShortcut
from tests.integrations.fixtures.cds_requests import medication_request, order_select, order_sign

SIGN = "/cds-services/ldn-kb-order-sign"
SELECT = "/cds-services/ldn-kb-order-select"
DOCUMENTED_ONLY = "application/vnd.test+json"


def ldn(dose_mg: float = 4.5) -> dict[str, Any]:
    return medication_request("ldn-1", "naltrexone 4.5 MG by mouth nightly", dose_mg=dose_mg, timing_text="nightly")


def oxycodone() -> dict[str, Any]:
    return medication_request("oxy-1", "oxycodone 5 MG Oral Tablet", dose_mg=5, frequency=4)


def shortcut_of(client: TestClient) -> CdsCallShortcut:
    (found,) = [r for r in client.app.router.routes if isinstance(r, CdsCallShortcut)]  # type: ignore[attr-defined]
    return found


def post(client: TestClient, path: str, raw: bytes, content_type: str) -> tuple[int, bytes, dict[str, str]]:
    response = client.post(path, content=raw, headers={"Content-Type": content_type})
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, response.content, headers


def _with(change: Callable[[dict[str, Any]], None], body: dict[str, Any]) -> bytes:
    change(body)
    return json.dumps(body).encode()


# (name, path, raw body, whether the shortcut answers it itself)
CASES: list[tuple[str, str, bytes, bool]] = [
    ("low dose", SIGN, json.dumps(order_sign(ldn())).encode(), True),
    ("with an opioid", SIGN, json.dumps(order_sign(ldn(), oxycodone())).encode(), True),
    ("undocumented dose", SIGN, json.dumps(order_sign(ldn(dose_mg=1000))).encode(), True),
    ("order-select", SELECT, json.dumps(order_select(ldn(), selections=["MedicationRequest/ldn-1"])).encode(), True),
    ("no naltrexone", SIGN, json.dumps(order_sign(oxycodone())).encode(), True),
    # Problems raised while answering (400) come out of the same exception handlers.
    ("wrong hook", SIGN, _with(lambda b: b.update(hook="patient-view"), order_sign(ldn())), True),
    ("no bundle", SIGN, _with(lambda b: b["context"].update(draftOrders="x"), order_sign(ldn())), True),
    # Bodies that do not parse or validate are handed to the documented route (422, FastAPI's locations).
    ("no hookInstance", SIGN, _with(lambda b: b.pop("hookInstance"), order_sign(ldn())), False),
    ("not JSON", SIGN, b'{"hook": "order-sign",', False),
    ("empty", SIGN, b"", False),
    ("a list", SIGN, b"[]", False),
    ("not UTF-8", SIGN, b'{"hook": "\xff"}', False),
]


@pytest.mark.parametrize(("name", "path", "raw", "answered_here"), CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_the_documented_route(
    client: TestClient, name: str, path: str, raw: bytes, answered_here: bool
) -> None:
    shortcut = shortcut_of(client)
    before = shortcut.answered
    fast = post(client, path, raw, "application/json")
    assert shortcut.answered == before + (1 if answered_here else 0), name
    documented = post(client, path, raw, DOCUMENTED_ONLY)
    assert shortcut.answered == before + (1 if answered_here else 0), "a +json type goes to the documented route"
    assert fast[0] == documented[0], (name, fast[1][:300], documented[1][:300])
    assert fast[1] == documented[1]
    assert fast[2] == documented[2]
    if answered_here and fast[0] == 200:
        assert json.loads(fast[1])["cards"] is not None


def test_unusual_calls_are_left_to_the_documented_route(client: TestClient) -> None:
    shortcut = shortcut_of(client)
    before = shortcut.answered
    raw = json.dumps(order_sign(ldn())).encode()
    assert post(client, SIGN + "?x=1", raw, "application/json")[0] == 400  # unknown parameter
    assert post(client, "/cds-services/nope", raw, "application/json")[0] == 404
    assert post(client, SIGN, raw, "text/plain")[0] == 415  # the negotiation middleware's answer
    assert client.post(SIGN, content=raw).status_code == 415  # no Content-Type
    assert shortcut.answered == before


def test_counted_and_logged_under_the_route_template(client: TestClient) -> None:
    def counted() -> float:
        prefix = 'ldn_kb_http_requests_total{method="POST",route="/cds-services/{service_id}",status="200"}'
        lines = [line for line in client.get("/metrics").text.splitlines() if line.startswith(prefix)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    shortcut = shortcut_of(client)
    before, answered = counted(), shortcut.answered
    raw = json.dumps(order_sign(ldn())).encode()
    for _ in range(3):
        response = client.post(SIGN, content=raw, headers={"Content-Type": "application/json", "X-Request-ID": "cds-7"})
        assert response.status_code == 200 and response.headers["x-request-id"] == "cds-7"
    assert shortcut.answered == answered + 3
    assert counted() == before + 3
