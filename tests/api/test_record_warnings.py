"""Warnings on the records themselves (issue 11, "What was seen" 6): every regimen and indication, in
every face (JSON /v1, FHIR MedicationKnowledge, Infobutton), carries the label's opioid contraindication
and the hepatotoxicity warning that remains, attributed, derived from the drug record's content."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.content.files import read_dataset
from app.services.record_warnings import build_warnings, warnings_text

DATASET = read_dataset()
DRUG = next(d for d in DATASET.drugs if d.slug == "naltrexone")
SOURCES = {s.slug: s for s in DATASET.sources}
OPIOID_TEXTS = [c.text for c in DRUG.contraindications if "opioid" in c.text.lower() or "naloxone" in c.text.lower()]
LIVER_TEXTS = [c.text for c in DRUG.contraindications if "liver" in c.text.lower()]
HEPATOTOXICITY_EVENTS = [a.event for a in DRUG.approvals if "hepatotoxicity" in a.event.lower()]


def _check_warnings(warnings: list[dict[str, Any]]) -> None:
    assert [w["code"] for w in warnings] == ["opioid-contraindication", "hepatotoxicity"]
    opioid, liver = warnings
    assert opioid["kind"] == "contraindication" and liver["kind"] == "warning"
    assert [s["text"] for s in opioid["statements"]] == OPIOID_TEXTS
    assert "Patients receiving opioid analgesics." in OPIOID_TEXTS
    texts = [s["text"] for s in liver["statements"]]
    assert texts == HEPATOTOXICITY_EVENTS + LIVER_TEXTS
    assert any("a hepatotoxicity warning remains" in t for t in texts)
    for w in warnings:
        for s in w["statements"]:
            assert s["verification"] in {"primary", "secondary"}
            assert s["source"]["title"] == SOURCES[s["source"]["slug"]].title
            assert s["type"] in {"label-contraindication", "label-change"}


def test_the_facts_exist_in_the_content() -> None:
    assert len(OPIOID_TEXTS) == 4 and len(LIVER_TEXTS) == 1 and len(HEPATOTOXICITY_EVENTS) == 2


@pytest.mark.parametrize(
    "slug",
    [
        "low-dose-naltrexone",
        "very-low-dose-naltrexone",
        "ultra-low-dose-naltrexone",
        "low-dose-naltrexone-paediatric",
        "oral-naltrexone-addiction",
        "extended-release-injectable-naltrexone",
    ],
)
def test_every_regimen_carries_the_label_warnings(client: TestClient, slug: str) -> None:
    response = client.get(f"/v1/regimens/{slug}")
    assert response.status_code == 200
    _check_warnings(response.json()["data"]["warnings"])


def test_regimen_and_indication_lists_carry_them_too(client: TestClient) -> None:
    regimens = client.get("/v1/regimens", params={"limit": 100}).json()["data"]
    assert len(regimens) == len(DATASET.regimens)
    for r in regimens:
        _check_warnings(r["warnings"])
    indications = client.get("/v1/indications", params={"limit": 100}).json()["data"]
    assert len(indications) == len(DATASET.indications)
    for i in indications:
        _check_warnings(i["warnings"])


def test_ldn_indications_carry_them(client: TestClient) -> None:
    ldn = [i.slug for i in DATASET.indications if i.regimen == "low-dose-naltrexone"]
    assert ldn
    for slug in ldn:
        _check_warnings(client.get(f"/v1/indications/{slug}").json()["data"]["warnings"])


def test_fhir_medication_knowledge_carries_them(client: TestClient) -> None:
    response = client.get("/fhir/R4/MedicationKnowledge/low-dose-naltrexone")
    assert response.status_code == 200
    mk = response.json()
    contained = {c["id"]: c for c in mk["contained"]}
    referenced = [contained[ref["reference"][1:]] for ref in mk["contraindication"]]
    codes = {i["code"]["coding"][0]["code"] for i in referenced}
    details = [i["detail"] for i in referenced]
    assert codes == {"label-contraindication"}  # a label warning is no contraindication (audit 8)
    assert any(d.startswith("Patients receiving opioid analgesics.") for d in details)
    warned = [e["valueReference"]["reference"][1:] for e in mk["extension"] if e["url"].endswith("/label-warning")]
    warnings = [contained[ref] for ref in warned]
    assert {w["code"]["coding"][0]["code"] for w in warnings} == {"label-warning"}
    assert [w["detail"].rsplit(" (", 1)[0] for w in warnings] == HEPATOTOXICITY_EVENTS
    assert all(w["extension"] for w in warnings)  # attributed, with status


def test_infobutton_entries_carry_them(client: TestClient) -> None:
    params = "mainSearchCriteria.v.c=M79.7&informationRecipient=PROV&knowledgeResponseType=application/json"
    feed = client.get(f"/infobutton?{params}").json()["feed"]
    assert feed["entry"]
    for entry in feed["entry"]:
        summary = entry["summary"]["_value"]
        assert "Contraindicated with opioids (label): Patients receiving opioid analgesics." in summary
        assert "a hepatotoxicity warning remains" in summary


def test_warnings_are_derived_from_the_drug_content() -> None:
    source = {"slug": "a-label", "title": "A label", "verification": "primary"}
    drug = {
        "contraindications": [
            {"text": "Patients on opioid analgesics.", "verification": "primary", "source": source},
            {"text": "Something unrelated.", "verification": "primary", "source": source},
        ],
        "approval_history": [
            {
                "event": "Hepatotoxicity wording changed",
                "date": "2020",
                "product": "X",
                "verification": "primary",
                "source": source,
            },
            {"event": "Approved for something", "date": "2019", "verification": "primary", "source": source},
        ],
    }
    warnings = build_warnings(drug)
    assert [[s["text"] for s in w["statements"]] for w in warnings] == [
        ["Patients on opioid analgesics."],
        ["Hepatotoxicity wording changed"],
    ]
    assert build_warnings({"contraindications": [], "approval_history": []}) == []
    assert warnings_text(warnings).startswith("Contraindicated with opioids (label): Patients on opioid analgesics.")
