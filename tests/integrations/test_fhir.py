"""FHIR R4 facade: every emitted resource validated against fhir.resources R4B, bindings checked here."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from app.content.files import read_dataset
from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import CODE_SYSTEM_URIS
from app.settings import Settings

DATASET = read_dataset()
MK = "/fhir/R4/MedicationKnowledge"
RXNORM = CODE_SYSTEM_URIS["rxnorm"]
ICD = CODE_SYSTEM_URIS["icd-10-cm"]
SNOMED = CODE_SYSTEM_URIS["snomed-ct"]
UCUM = CODE_SYSTEM_URIS["ucum"]
BASE = "http://testserver/fhir/R4"
CANON = Settings.model_fields["fhir_canonical_base"].default  # canonical URLs: configuration, not the request
OWN_SYSTEMS = {f"{CANON}/CodeSystem/{i}" for i in ("evidence-level", "verification", "term", "target")}
STRICT = {"Prefer": "handling=strict"}
KNOWN_SYSTEMS = (
    set(CODE_SYSTEM_URIS.values()) | OWN_SYSTEMS | {"http://terminology.hl7.org/CodeSystem/v3-ObservationValue"}
)
UCUM_CODES = {"mg", "ug", "mg/kg", "d", "wk", "mo"}
INTERACTIONS = {
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
}
PARAM_TYPES = {"number", "date", "string", "token", "reference", "composite", "quantity", "uri", "special"}
ISSUE_TYPES = {"invalid", "value", "not-found", "not-supported", "exception", "code-invalid"}


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """Validate with the R4B model of its type, then the bindings the package does not enforce."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    check_bindings(resource)
    return resource


def walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for key, value in node.items():
            out += walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for value in node:
            out += walk(value, path)
    return out


def check_bindings(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    if kind == "MedicationKnowledge" and "status" in resource:  # absent only from a subsetted resource
        assert resource["status"] in {"active", "inactive", "entered-in-error"}
    if kind == "Bundle":
        assert resource["type"] in {"searchset", "history"}
        for entry in resource.get("entry", []):
            validate(entry["resource"])
            if resource["type"] == "history":
                assert entry["request"]["url"] == f"MedicationKnowledge/{entry['resource']['id']}"
                assert entry["response"]["etag"] == f'W/"{entry["resource"]["meta"]["versionId"]}"'
            elif entry["search"]["mode"] == "outcome":
                assert entry["resource"]["resourceType"] == "OperationOutcome" and "fullUrl" not in entry
                continue
            else:
                assert entry["search"]["mode"] == "match"
            kind_of = entry["resource"]["resourceType"]
            assert entry["fullUrl"] == f"{BASE}/{kind_of}/{entry['resource']['id']}"
    if kind in {"CapabilityStatement", "CodeSystem", "ValueSet", "StructureDefinition"}:
        assert resource["status"] in {"draft", "active", "retired", "unknown"}
    if kind == "CodeSystem":
        assert resource["content"] in {"not-present", "example", "fragment", "complete", "supplement"}
    if kind == "CapabilityStatement":
        for r in resource["rest"][0]["resource"]:
            assert r["conditionalRead"] in {"not-supported", "modified-since", "not-match", "full-support"}
            assert r["versioning"] in {"no-version", "versioned", "versioned-update"}
            assert {i["code"] for i in r["interaction"]} <= INTERACTIONS
            assert {p["type"] for p in r["searchParam"]} <= PARAM_TYPES
    if kind == "Bundle" and resource["type"] == "history":
        assert {e["request"]["method"] for e in resource.get("entry", [])} <= {"GET", "HEAD", "POST", "PUT", "DELETE"}
    if kind == "OperationOutcome":
        for issue in resource["issue"]:
            assert issue["severity"] in {"fatal", "error", "warning", "information"}
            assert issue["code"] in ISSUE_TYPES
    for path, node in walk(resource):
        if not isinstance(node, dict):
            continue
        if "system" in node and "code" in node and not path.endswith(("Range.low", "Range.high")):
            assert node["system"] in KNOWN_SYSTEMS, (path, node)
        if node.get("system") == UCUM:
            assert node["code"] in UCUM_CODES, node
        if path.endswith("valueRelatedArtifact"):
            assert node["type"] in {"citation", "documentation", "justification"}
    for _, node in walk(resource):
        if isinstance(node, dict) and node.get("system") in (ICD, SNOMED):
            assert (node["system"], node["code"]) in content_condition_codes(), node


def content_condition_codes() -> set[tuple[str, str]]:
    return {(CODE_SYSTEM_URIS[c.system], c.code) for cond in DATASET.conditions for c in cond.codes}


def fhir_get(client: TestClient, url: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(("application/fhir+json", "application/json"))
    return validate(response.json())


def all_ids() -> list[str]:
    return sorted([d.slug for d in DATASET.drugs] + [r.slug for r in DATASET.regimens])


def ingredient_rxcui() -> str:
    drug = next(d for d in DATASET.drugs if d.slug == "naltrexone")
    return next(i.value for i in drug.identifiers if i.system == "rxnorm" and "ingredient" in (i.note or "").lower())


# --- metadata and definitions --------------------------------------------------------------------------


def test_capability_statement(client: TestClient) -> None:
    cs = fhir_get(client, "/fhir/R4/metadata")
    assert (cs["status"], cs["kind"], cs["fhirVersion"]) == ("active", "instance", "4.0.1")
    assert "json" in cs["format"]
    rest = cs["rest"][0]
    assert rest["mode"] == "server"
    mk = next(r for r in rest["resource"] if r["type"] == "MedicationKnowledge")
    assert {i["code"] for i in mk["interaction"]} == {
        "read",
        "vread",
        "history-instance",
        "history-type",
        "search-type",
    }
    params = {p["name"]: p for p in mk["searchParam"]}
    assert {"code", "classification", "status", "_id", "_lastUpdated", "_count", "_summary"} <= set(params)
    assert all(p["type"] and p["documentation"] for p in params.values())
    sd = next(r for r in rest["resource"] if r["type"] == "StructureDefinition")
    # every extension used by any resource is published and listed
    used = {
        node["url"]
        for ident in all_ids()
        for _, node in walk(client.get(f"{MK}/{ident}").json())
        if isinstance(node, dict) and "url" in node and "/StructureDefinition/" in str(node["url"])
    }
    assert used
    for url in used:
        assert url in sd["documentation"] and url in mk["documentation"]
        found = fhir_get(client, "/fhir/R4/StructureDefinition", params={"url": url})
        assert found["total"] == 1
        definition = found["entry"][0]["resource"]
        assert definition["url"] == url and definition["type"] == "Extension"


def test_code_systems_define_every_own_code(client: TestClient) -> None:
    systems = {
        url: fhir_get(client, "/fhir/R4/CodeSystem", params={"url": url})["entry"][0]["resource"] for url in OWN_SYSTEMS
    }
    defined = {(url, c["code"]) for url, cs in systems.items() for c in cs["concept"]}
    # Audit 8: every terminology resource carries the disclaimer, and a target's accession its status
    for kind in ("CodeSystem", "ValueSet", "StructureDefinition"):
        for entry in fhir_get(client, f"/fhir/R4/{kind}")["entry"]:
            assert "not medical advice" in entry["resource"]["text"]["div"], (kind, entry["resource"]["id"])
    targets = {c["code"]: c["definition"] for c in systems[f"{CANON}/CodeSystem/target"]["concept"]}
    for target in DATASET.targets:
        for identifier in target.identifiers:
            assert f"{identifier.value} ({identifier.verification})" in targets[target.slug], (target.slug, identifier)
    assert {(f"{CANON}/CodeSystem/evidence-level", level.value) for level in EvidenceLevel} <= defined
    for ident in all_ids():
        for _, node in walk(client.get(f"{MK}/{ident}").json()):
            if isinstance(node, dict) and node.get("system") in OWN_SYSTEMS:
                assert (node["system"], node["code"]) in defined, node


# --- read ----------------------------------------------------------------------------------------------


def test_every_resource_reads_and_validates(client: TestClient) -> None:
    for ident in all_ids():
        resource = fhir_get(client, f"{MK}/{ident}")
        assert resource["id"] == ident


def test_drug_resource_codes_and_links(client: TestClient) -> None:
    drug = next(d for d in DATASET.drugs if d.slug == "naltrexone")
    mk = fhir_get(client, f"{MK}/naltrexone")
    rxnorm = {c["code"] for c in mk["code"]["coding"] if c["system"] == RXNORM}
    assert rxnorm == {i.value for i in drug.identifiers if i.system == "rxnorm"}
    assert mk["synonym"] == drug.synonyms
    related = {r["reference"] for rel in mk["relatedMedicationKnowledge"] for r in rel["reference"]}
    assert related == {f"MedicationKnowledge/{r.slug}" for r in DATASET.regimens if r.drug == drug.slug}
    # contraindications: contained DetectedIssues, one per label statement, each referenced
    contained = {c["id"]: c for c in mk["contained"]}
    issues = [contained[ref["reference"][1:]] for ref in mk["contraindication"]]
    assert [i["detail"].split(" Note:")[0] for i in issues] == [c.text for c in drug.contraindications]
    # Audit 8: a label warning (the hepatotoxicity warning that remains) is no contraindication: it is
    # referenced from the label-warning extension, and every contained resource is referenced (dom-3)
    assert {i["code"]["coding"][0]["code"] for i in issues} == {"label-contraindication"}
    warnings = [e["valueReference"]["reference"][1:] for e in mk["extension"] if e["url"].endswith("/label-warning")]
    assert warnings and {contained[w]["code"]["coding"][0]["code"] for w in warnings} == {"label-warning"}
    assert set(contained) == {ref["reference"][1:] for ref in mk["contraindication"]} | set(warnings)
    atc = [c["code"] for m in mk["medicineClassification"] for cl in m["classification"] for c in cl["coding"]]
    assert {i.value for i in drug.identifiers if i.system == "atc"} <= set(atc)
    assert {t.slug for t in DATASET.targets if any(m.target == t.slug for m in DATASET.mechanisms)} <= set(atc)
    assert len(mk["drugCharacteristic"]) == len([m for m in DATASET.mechanisms if m.drug == drug.slug])
    assert "not medical advice" in mk["text"]["div"]
    # Audit 8: every code of the drug carries its status as the RxNorm codings do (ATC was served bare)
    statuses: dict[tuple[str, str], str] = {(i.system, i.value): i.verification for i in drug.identifiers}
    codings = [
        *mk["code"]["coding"],
        *(c for m in mk["medicineClassification"] for cl in m["classification"] for c in cl["coding"]),
    ]
    for c in codings:
        system = {RXNORM: "rxnorm", "http://www.whocc.no/atc": "atc"}.get(c["system"])
        if system is not None:
            status = [e["valueCoding"]["code"] for e in c.get("extension", []) if e["url"].endswith("/verification")]
            assert status == [statuses[(system, c["code"])]], c


def test_every_source_range_is_a_dose_range_attributed_to_its_source(client: TestClient) -> None:
    for regimen in DATASET.regimens:
        mk = fhir_get(client, f"{MK}/{regimen.slug}")
        rxnorm = {c["code"] for c in mk["code"]["coding"] if c["system"] == RXNORM}
        assert rxnorm == {ingredient_rxcui()}
        assert {r["reference"] for rel in mk["relatedMedicationKnowledge"] for r in rel["reference"]} == {
            f"MedicationKnowledge/{regimen.drug}"
        }
        dosing = [g for g in mk["administrationGuidelines"] if "dosage" in g]
        assert len(dosing) == len(regimen.dose_ranges)
        for guideline, expected in zip(dosing, regimen.dose_ranges, strict=True):
            cites = [e["valueRelatedArtifact"]["label"] for e in guideline["extension"] if "valueRelatedArtifact" in e]
            assert cites == [expected.source]
            dosage = guideline["dosage"][0]["dosage"][0]
            rng = dosage["doseAndRate"][0]["doseRange"]
            for bound, value in (("low", expected.min), ("high", expected.max)):
                if value is None:
                    assert bound not in rng
                else:
                    assert rng[bound]["value"] == float(value)
                    assert (rng[bound]["system"], rng[bound]["code"]) == (UCUM, expected.unit)
            if expected.per == "administration":
                repeat = dosage["timing"]["repeat"]
                assert (repeat["period"], repeat["periodUnit"]) == (float(expected.period_value), expected.period_unit)
            else:
                assert "timing" not in dosage  # a total per period is not one administration per period
            kind = guideline["dosage"][0]["type"]["coding"][0]["code"]
            assert kind == ("reference-dose-range" if expected.is_reference else "dose-range")


def test_indications_carry_codes_evidence_and_off_label(client: TestClient) -> None:
    conditions = {c.slug: c for c in DATASET.conditions}
    for regimen in DATASET.regimens:
        mk = client.get(f"{MK}/{regimen.slug}").json()
        guidelines = [g for g in mk.get("administrationGuidelines", []) if "indicationCodeableConcept" in g]
        expected = [i for i in DATASET.indications if i.regimen == regimen.slug]
        assert len(guidelines) == len(expected)
        by_text = {g["indicationCodeableConcept"]["text"]: g for g in guidelines}
        for indication in expected:
            condition = conditions[indication.condition]
            g = by_text[condition.name]
            codes = {(c["system"], c["code"]) for c in g["indicationCodeableConcept"].get("coding", [])}
            assert codes == {(CODE_SYSTEM_URIS[c.system], c.code) for c in condition.codes}
            values = {e["url"].rsplit("/", 1)[1]: e for e in g["extension"]}
            assert values["off-label"]["valueBoolean"] is (indication.status != "approved")
            assert values["evidence-level"]["valueCoding"]["code"] == indication.evidence_level


def test_a_condition_code_carries_its_mapping_caveat(client: TestClient) -> None:
    """Audit 8: Reactivated EBV was coded B27.0 (mononucleosis codes) with no caveat, while /v1 keeps the
    code's version note. Every condition coding with a note carries it in the code-note extension."""
    notes = {(c.code, c.version_note) for cond in DATASET.conditions for c in cond.codes if c.version_note}
    seen = set()
    for ident in all_ids():
        for _, node in walk(fhir_get(client, f"{MK}/{ident}")):
            if isinstance(node, dict) and node.get("system") == "http://hl7.org/fhir/sid/icd-10-cm":
                note = [e["valueString"] for e in node.get("extension", []) if e["url"].endswith("/code-note")]
                wanted = [n for code, n in notes if code == node["code"]]
                assert note == wanted[:1], node
                seen.add(node["code"])
    assert "B27.0" in seen


def test_summary_true_keeps_only_summary_elements(client: TestClient) -> None:
    from fhir.resources.R4B.medicationknowledge import MedicationKnowledge

    full = client.get(f"{MK}/naltrexone").json()
    summary = fhir_get(client, f"{MK}/naltrexone?_summary=true")
    expected = MedicationKnowledge.model_validate(full).model_dump(summary_only=True)
    assert set(summary) - {"meta"} == set(expected) - {"meta"}
    assert {"code": "SUBSETTED"}.items() <= summary["meta"]["tag"][0].items()


# --- search --------------------------------------------------------------------------------------------


def search_ids(client: TestClient, query: str) -> list[str]:
    bundle = fhir_get(client, f"{MK}?{query}")
    assert bundle["total"] == len(bundle.get("entry", []))
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_search_by_code_forms(client: TestClient) -> None:
    rxcui = ingredient_rxcui()
    everything = all_ids()
    assert search_ids(client, f"code={RXNORM}|{rxcui}&_count=100") == everything
    assert search_ids(client, f"code={rxcui}&_count=100") == everything
    assert search_ids(client, f"code={RXNORM}|&_count=100") == everything
    assert search_ids(client, f"code=|{rxcui}") == []  # |code: a coding without a system
    assert search_ids(client, f"code=http://example.org|{rxcui}") == []
    product = next(i.value for d in DATASET.drugs for i in d.identifiers if i.system == "rxnorm" and i.value != rxcui)
    assert search_ids(client, f"code={RXNORM}|{product}") == ["naltrexone"]
    assert search_ids(client, "status=active&_count=100") == everything
    assert search_ids(client, "status=inactive") == []
    assert search_ids(client, "_id=naltrexone,low-dose-naltrexone") == ["low-dose-naltrexone", "naltrexone"]


def test_search_by_classification(client: TestClient) -> None:
    atc = next(i.value for d in DATASET.drugs for i in d.identifiers if i.system == "atc")
    assert search_ids(client, f"classification={CODE_SYSTEM_URIS['atc']}|{atc}&_count=100") == all_ids()
    regimen_only = {m.target for m in DATASET.mechanisms if m.regimen} - {
        m.target for m in DATASET.mechanisms if not m.regimen and m.dose_context == "any"
    }
    assert regimen_only  # targets documented only for some regimens (e.g. at low dose)
    for target in regimen_only:
        expected = sorted({"naltrexone"} | {m.regimen for m in DATASET.mechanisms if m.target == target and m.regimen})
        assert search_ids(client, f"classification={CANON}/CodeSystem/target|{target}") == expected


def test_paging_follows_next_links(client: TestClient) -> None:
    seen: list[str] = []
    url = f"{MK}?status=active&_count=2"
    pages = 0
    while url:
        bundle = fhir_get(client, url.removeprefix("http://testserver"))
        assert len(bundle.get("entry", [])) <= 2
        assert bundle["total"] == len(all_ids())
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = nxt[0] if nxt else ""
        pages += 1
    assert seen == all_ids()
    assert pages == -(-len(all_ids()) // 2)


def test_summary_count_and_count_bound(client: TestClient) -> None:
    bundle = fhir_get(client, f"{MK}?_summary=count")
    assert bundle["total"] == len(all_ids()) and "entry" not in bundle
    bundle = fhir_get(client, f"{MK}?_count=0")
    assert bundle["total"] == len(all_ids()) and "entry" not in bundle
    bundle = fhir_get(client, f"{MK}?_count=100000")
    assert "_count=100" in bundle["link"][0]["url"]  # lowered to the bound
    bundle = fhir_get(client, f"{MK}?_summary=true&_count=100")
    for entry in bundle["entry"]:
        assert "administrationGuidelines" not in entry["resource"]


def test_post_search_matches_get(client: TestClient) -> None:
    query = f"code={RXNORM}|{ingredient_rxcui()}&_count=3"
    response = client.post(
        f"{MK}/_search", content=query, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200, response.text
    posted = validate(response.json())
    got = client.get(f"{MK}?{query}").json()
    assert posted == got


# --- negotiation and errors ----------------------------------------------------------------------------


def outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = validate(response.json())
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"]
    assert "not medical advice" in body["text"]["div"], body  # audit 8: errors carry the disclaimer too
    return body


def test_json_negotiation(client: TestClient) -> None:
    for accept in ("application/fhir+json", "application/json", "*/*", "text/html, */*;q=0.8"):
        assert client.get("/fhir/R4/metadata", headers={"Accept": accept}).status_code == 200
    for fmt in ("json", "application/json", "application/fhir+json"):
        assert client.get(f"/fhir/R4/metadata?_format={fmt}&_pretty=true").status_code == 200
    outcome(client.get(f"{MK}/naltrexone", headers={"Accept": "application/fhir+xml"}), 406)
    outcome(client.get(f"{MK}/naltrexone", headers={"Accept": "application/xml"}), 406)
    outcome(client.get(f"{MK}?_format=xml"), 406)


def test_errors_are_operation_outcomes(client: TestClient) -> None:
    outcome(client.get(f"{MK}/no-such-drug"), 404)
    outcome(client.get("/fhir/R4/Patient/1"), 404)
    outcome(client.get("/fhir/R4/StructureDefinition/nope"), 404)
    outcome(client.get(f"{MK}?colour=blue", headers=STRICT), 400)
    outcome(client.get(f"{MK}?code:text=naltrexone"), 400)  # an unsupported modifier: 400 in either handling
    outcome(client.get(f"{MK}/naltrexone?code=7243", headers=STRICT), 400)
    outcome(client.get(f"{MK}?_count=-1"), 400)
    outcome(client.get(f"{MK}?_count=ten"), 400)
    outcome(client.get(f"{MK}?_offset=x"), 400)
    outcome(client.get(f"{MK}?_summary=maybe"), 400)
    outcome(client.get(f"{MK}/naltrexone?_summary=count"), 400)
    outcome(client.delete(f"{MK}/naltrexone"), 405)
    outcome(client.get(f"{MK}/_search"), 405)
    outcome(client.post(f"{MK}/_search", json={"code": "7243"}), 415)
    outcome(client.post(f"{MK}/_search", content=b"code=7243", headers={"Content-Type": "text/plain"}), 415)
    outcome(
        client.post(
            f"{MK}/_search",
            content=b"bogus=1",
            headers={"Content-Type": "application/x-www-form-urlencoded", **STRICT},
        ),
        400,
    )


@pytest.mark.parametrize("path", ["/v1/drugs/no-such-drug"])
def test_v1_errors_stay_problem_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
