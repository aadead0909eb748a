"""The CDS services read an EHR's FHIR server only when it is one the operator named (LDNKB_CDS_FHIR_SERVERS).

A CDS call names its own ``fhirServer`` and bearer token. Read from any such URL, an anonymous caller could
make the service send a bearer token and GETs to any host it reaches (loopback, the cloud's metadata
address, the internal network). So a server is read only when its origin and path lie under one of the
configured servers; by default none is, and the cards say the server was not read and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.integrations.cds_hooks.fhir_client import server_allowed
from app.main import create_app
from app.settings import Settings
from tests.integrations.fixtures.cds_requests import concept, dosage, gts, medication, order, order_sign, quantity
from tests.integrations.fixtures.fhir_server import FhirHandler, fhir_server

SIGN = "/cds-services/ldn-kb-order-sign"


@pytest.fixture(scope="module")
def recorder() -> Iterator[str]:
    """A local FHIR server holding one Medication; its origin (the base URL without /fhir)."""
    medications = {
        "/fhir/Medication/med-ntx": medication("med-ntx", concept("naltrexone hydrochloride 50 MG Oral Tablet"))
    }
    with fhir_server(medications) as url:
        yield url.removesuffix("/fhir")


def _call(client: TestClient, fhir_server: str) -> list[dict[str, Any]]:
    FhirHandler.seen.clear()
    body = order_sign(
        order("n1", reference="Medication/med-ntx", dosage_=dosage(dose=quantity(50), timing=gts("QD"))),
        fhir_server=fhir_server,
        token="secret-token",
    )
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def test_by_default_no_fhir_server_is_read_and_the_cards_say_why(client: TestClient, recorder: str) -> None:
    cards = _call(client, f"{recorder}/fhir")
    assert FhirHandler.seen == []  # no request, no token sent
    text = json.dumps(cards)
    assert "LDNKB_CDS_FHIR_SERVERS" in text and "Medication/med-ntx" in text
    assert "warning" in [c["indicator"] for c in cards]


@pytest.fixture(scope="module")
def allowed_client(database_url: str, recorder: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, content_check_interval=0, cds_fhir_servers=[f"{recorder}/fhir"])
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_configured_server_is_read_with_the_token(allowed_client: TestClient, recorder: str) -> None:
    cards = _call(allowed_client, f"{recorder}/fhir")
    assert ("/fhir/Medication/med-ntx", "Bearer secret-token") in FhirHandler.seen
    assert {auth for _, auth in FhirHandler.seen} == {"Bearer secret-token"}
    assert any("50 mg daily" in c["summary"] for c in cards)


@pytest.mark.parametrize(
    "other",
    [
        "{r}/fhirx",  # a sibling path, not under /fhir
        "{r}/",
        "{r}/fhir/../admin",
        "{r}/fhir/%2e%2e/admin",
        "http://localhost:{port}/fhir",  # the same server under another name is another origin
        "https://127.0.0.1:{port}/fhir",
        "http://127.0.0.1:9/fhir",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_a_server_outside_the_list_is_never_read(allowed_client: TestClient, recorder: str, other: str) -> None:
    port = recorder.rsplit(":", 1)[1]
    url = other.format(r=recorder, port=port)
    cards = _call(allowed_client, url)
    assert FhirHandler.seen == []
    assert "LDNKB_CDS_FHIR_SERVERS" in json.dumps(cards)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://ehr.example.org/fhir", True),
        ("https://EHR.example.org:443/fhir/", True),
        ("https://ehr.example.org/fhir/r4", True),
        ("https://ehr.example.org/fhir2", False),
        ("http://ehr.example.org/fhir", False),
        ("https://ehr.example.org:8443/fhir", False),
        ("https://ehr.example.org.evil.test/fhir", False),
        ("https://user@ehr.example.org/fhir", False),
        ("https://ehr.example.org/fhir/./x", False),
        ("https://ehr.example.org/fhir?x=1", False),
        ("https://ehr.example.org/fhir#x", False),
    ],
)
def test_server_allowed(url: str, allowed: bool) -> None:
    assert server_allowed(url, ["https://ehr.example.org/fhir"]) is allowed


@pytest.mark.parametrize("entry", ["ftp://ehr.example.org/fhir", "https://u:p@ehr.example.org", "ehr.example.org", "*"])
def test_a_bad_entry_is_refused_at_start(entry: str) -> None:
    with pytest.raises(ValidationError):
        Settings(cds_fhir_servers=[entry])


def test_entries_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LDNKB_CDS_FHIR_SERVERS", "https://a.example/fhir, https://b.example/r4")
    assert Settings().cds_fhir_servers == ["https://a.example/fhir", "https://b.example/r4"]
