"""The CDS call shortcut answers exactly as the documented route, and leaves everything unusual to it.

Each body is sent twice: as ``application/json`` (the shortcut may answer) and as
``application/vnd.test+json``, which FastAPI parses as JSON too but the shortcut declines, so the
documented route answers. Status, body and headers (but the request id) must be equal, and the
shortcut's own count says which of the two paths answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
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


# --- never a 500 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1_000, 10_000, 100_000])
def test_deeply_nested_json_is_a_400_problem(client: TestClient, depth: int) -> None:
    raw = b"[" * depth + b"]" * depth
    for path in (SIGN, SELECT):
        for content_type in ("application/json", DOCUMENTED_ONLY):
            response = client.post(path, content=raw, headers={"Content-Type": content_type})
            assert 400 <= response.status_code < 500, (depth, content_type, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json")
    nested = json.dumps(order_sign(ldn()))[:-1] + ', "extension": ' + "[" * depth + "]" * depth + "}"
    response = client.post(SIGN, content=nested.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code in {200, 400, 422}, response.text[:300]


JUNK: list[Any] = [None, True, 1e308, "x" * 300, [None], {"resourceType": "Bundle", "entry": [None]}]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(body))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def test_no_shape_of_a_realistic_request_gives_a_500(client: TestClient, database_url: str) -> None:
    """Every node of realistic requests replaced by junk of every JSON type: never a 500.

    The cards come from the in-memory snapshot, not the store: run once (SQLite), in the app's own
    event loop over httpx's ASGI transport (the thread hop of the test client made it 3x slower)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("independent of the store: run on SQLite only")
    vivitrol = medication_request("viv-1", "Vivitrol", dose_mg=380, period=4, period_unit="wk", route="IM")
    referenced = {
        "resourceType": "MedicationRequest",
        "id": "ref-1",
        "status": "draft",
        "medicationReference": {"reference": "Medication/123", "display": "naltrexone"},
        "dosageInstruction": [
            {
                "timing": {"code": {"coding": [{"system": "x", "code": "BID"}]}, "repeat": {"frequency": 1}},
                "doseAndRate": [{"doseRange": {"low": {"value": 1, "code": "{tbl}"}, "high": {"value": 2}}}],
                "asNeededBoolean": False,
            }
        ],
    }
    statement = {
        "resourceType": "MedicationStatement",
        "id": "st-1",
        "status": "active",
        "medicationCodeableConcept": {"text": "OxyContin 10 mg"},
        "dosage": [{"text": "bid"}],
    }
    bodies = [
        order_sign(vivitrol, referenced, prefetch={"activeMedications": _bundle(statement)}),
        order_select(ldn(), selections=["MedicationRequest/ldn-1", "MedicationRequest/ref-1"]),
    ]
    cases: list[tuple[str, Any]] = []
    for junk in JUNK:  # the FHIR server's address and token (nothing listens on port 9: refused at once)
        for key in ("fhirServer", "fhirAuthorization"):
            cases.append((SIGN, {**bodies[0], "fhirServer": "http://127.0.0.1:9/fhir", "prefetch": None, key: junk}))
    for body in bodies:
        path = SELECT if body["hook"] == "order-select" else SIGN
        cases += [(path, _replaced(body, node, junk)) for node in _paths(body) for junk in JUNK]
    assert len(cases) > 400

    async def send_all() -> list[tuple[int, str]]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            out = []
            for path, case in cases:
                response = await http.post(path, json=case)
                out.append((response.status_code, response.text[:300]))
            return out

    failures = [
        (case, text) for (status, text), (_p, case) in zip(asyncio.run(send_all()), cases, strict=True) if status >= 500
    ]
    assert not failures, failures[:3]


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
