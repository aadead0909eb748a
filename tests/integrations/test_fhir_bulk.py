"""FHIR Bulk Data $export, written from the Bulk Data Access IG's flow: kick-off (Prefer: respond-async)
→ 202 + Content-Location → poll the status until 200 → manifest → NDJSON outputs → DELETE cancels."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _kick_off(client: TestClient, **params: str) -> str:
    response = client.get("/fhir/R4/$export", params=params, headers=ASYNC)
    assert response.status_code == 202, response.text
    location = response.headers["content-location"]
    assert "/fhir/R4/$export-status/" in location
    return location


def _poll(client: TestClient, location: str) -> dict[str, Any]:
    for _ in range(20):
        response = client.get(location)
        if response.status_code == 200:
            assert response.headers["content-type"].startswith("application/json")
            body: dict[str, Any] = response.json()
            return body
        assert response.status_code == 202, response.text
        assert "x-progress" in response.headers
        time.sleep(float(response.headers.get("retry-after", "0.1")))
    pytest.fail("the export never completed")


def test_system_export_flow_and_outputs_validate(client: TestClient) -> None:
    manifest = _poll(client, _kick_off(client))
    assert set(manifest) >= {"transactionTime", "request", "requiresAccessToken", "output", "error"}
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    types = {o["type"] for o in manifest["output"]}
    assert "MedicationKnowledge" in types
    searched = client.get("/fhir/R4/MedicationKnowledge", params={"_count": "1000"}).json()
    expected_ids = sorted(e["resource"]["id"] for e in searched["entry"] if e["search"]["mode"] == "match")
    for out in manifest["output"]:
        response = client.get(out["url"])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines = response.content.splitlines()
        assert len(lines) == out["count"] > 0
        ids = []
        for line in lines:
            resource = orjson.loads(line)
            assert resource["resourceType"] == out["type"]
            get_fhir_model_class(out["type"]).model_validate(resource)
            ids.append(resource["id"])
        if out["type"] == "MedicationKnowledge":
            assert sorted(ids) == expected_ids


def test_type_filter_and_since(client: TestClient) -> None:
    manifest = _poll(client, _kick_off(client, _type="MedicationKnowledge"))
    assert [o["type"] for o in manifest["output"]] == ["MedicationKnowledge"]
    assert "_type=MedicationKnowledge" in manifest["request"]
    future = _poll(client, _kick_off(client, _since="2999-01-01T00:00:00Z"))
    assert future["output"] == []


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {"Accept": "application/fhir+json"}),  # no Prefer: respond-async
        ({"_type": "Patient"}, ASYNC),
        ({"_outputFormat": "text/csv"}, ASYNC),
        ({"_since": "yesterday"}, ASYNC),
        ({"_typeFilter": "MedicationKnowledge?status=active"}, ASYNC),
        ({"bogus": "1"}, ASYNC),
    ],
)
def test_bad_kick_off_is_an_operation_outcome(
    client: TestClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    response = client.get("/fhir/R4/$export", params=params, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_delete_cancels_and_unknown_jobs_are_404(client: TestClient) -> None:
    location = _kick_off(client, _type="CodeSystem")
    assert _poll(client, location)["output"]
    assert client.delete(location).status_code == 202
    gone = client.get(location)
    assert gone.status_code == 404 and gone.json()["resourceType"] == "OperationOutcome"
    for bad in ["not-a-job", "eyJ2IjoxfQ", "x" * 300]:
        assert client.get(f"/fhir/R4/$export-status/{bad}").status_code == 404


def test_capability_statement_lists_the_system_export_operation(client: TestClient) -> None:
    """The Bulk Data IG: a server supporting system-level export lists it as rest.operation named "export"
    with the IG's OperationDefinition canonical; the listed operation answers the kick-off."""
    statement = client.get("/fhir/R4/metadata").json()
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    operations = statement["rest"][0]["operation"]
    export = [op for op in operations if op["name"] == "export"]
    assert len(export) == 1
    assert export[0]["definition"] == "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
    assert "respond-async" in export[0]["documentation"] and "MedicationKnowledge" in export[0]["documentation"]
    _kick_off(client)
