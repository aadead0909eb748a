"""The OpenAPI document as a product: valid, committed without drift, documented, with real examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from app.cli import openapi_yaml
from app.main import create_app
from app.schemas import conditions, drugs, indications, mechanisms, reference, regimens, sources, targets
from app.schemas.dose_check import DoseCheckResponse
from app.schemas.examples import examples
from app.settings import Settings
from tests.imports import modules_left_loaded

ROOT = Path(__file__).resolve().parents[2]
OUR_TAGS = {"drugs", "regimens", "targets", "mechanisms", "conditions", "indications", "sources", "reference"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = tmp_path_factory.mktemp("openapi") / "ldn-kb.sqlite3"
    return create_app(Settings(database_url=f"sqlite:///{store}")).openapi()


def test_committed_openapi_yaml_has_no_drift() -> None:
    committed = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    assert committed == openapi_yaml(), "openapi.yaml is stale: run `ldn-kb export-openapi` (make openapi)"


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_info_has_contact_licence_and_stability_promise(document: dict[str, Any]) -> None:
    info = document["info"]
    assert info["contact"]["name"]
    assert info["license"]["identifier"] == "Apache-2.0"
    assert "Stability promise" in info["description"]
    assert "/problems" in info["description"] and "HEAD" in info["description"]
    assert all(tag.get("description") for tag in document["tags"])


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_every_operation_has_an_id_summary_description_and_documented_errors(document: dict[str, Any]) -> None:
    ids = []
    for path, method, op in _operations(document):
        assert op.get("operationId"), (path, method)
        assert op.get("summary"), (path, method)
        ids.append(op["operationId"])
        responses = op["responses"]
        assert "500" in responses or path.startswith(("/healthz", "/readyz", "/metrics")), (path, method)
    assert len(ids) == len(set(ids))


def test_read_operations_document_model_example_and_caching(document: dict[str, Any]) -> None:
    ours = [(p, m, op) for p, m, op in _operations(document) if set(op.get("tags", [])) & OUR_TAGS]
    assert len(ours) >= 17
    for path, _method, op in ours:
        assert op.get("description"), path
        ok = op["responses"]["200"]
        content = ok["content"]["application/json"]
        assert content["schema"]["$ref"].startswith("#/components/schemas/"), path
        assert content["example"]["data"], path
        assert {"ETag", "Cache-Control"} <= set(ok["headers"]), path
        assert "304" in op["responses"], path
        for status, problem in op["responses"].items():
            if status.startswith(("4", "5")):
                assert "application/problem+json" in problem["content"], (path, status)


def _reachable(document: dict[str, Any], name: str, seen: set[str]) -> None:
    if name in seen:
        return
    seen.add(name)
    text = repr(document["components"]["schemas"][name])
    for ref in set(re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text)):
        _reachable(document, ref, seen)


def test_every_field_of_our_schemas_is_described(document: dict[str, Any]) -> None:
    seen: set[str] = set()
    for _path, _method, op in _operations(document):
        if set(op.get("tags", [])) & OUR_TAGS:
            for ref in re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", repr(op["responses"])):
                _reachable(document, ref, seen)
    assert {"DrugList", "Regimen", "DoseRange", "Indication", "Problem"} <= seen
    schemas = document["components"]["schemas"]
    for name in sorted(seen):
        schema = schemas[name]
        if "enum" in schema:
            continue
        assert schema.get("description"), name
        for field, spec in schema.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field}"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("drug", drugs.DrugResponse),
        ("drug_list", drugs.DrugList),
        ("regimen", regimens.RegimenResponse),
        ("regimen_list", regimens.RegimenList),
        ("target", targets.TargetResponse),
        ("target_list", targets.TargetList),
        ("mechanism", mechanisms.MechanismResponse),
        ("mechanism_list", mechanisms.MechanismList),
        ("condition", conditions.ConditionResponse),
        ("condition_list", conditions.ConditionList),
        ("indication", indications.IndicationResponse),
        ("indication_list", indications.IndicationList),
        ("source", sources.SourceResponse),
        ("source_list", sources.SourceList),
        ("evidence_levels", reference.EvidenceLevelList),
        ("problem_types", reference.ProblemTypeList),
        ("problem_type", reference.ProblemTypeResponse),
        ("index", reference.ApiIndex),
        ("dose_check", DoseCheckResponse),
        ("dose_check_query", DoseCheckResponse),
    ],
)
def test_examples_validate_against_their_models(name: str, model: Any) -> None:
    model.model_validate(examples()[name])


def test_examples_are_real_records() -> None:
    """Every example is a record of the curated dataset (nothing invented); refresh: ldn-kb build-examples."""
    from app.content.files import read_dataset

    dataset = read_dataset()
    for name, kind in [
        ("drug", "drugs"),
        ("regimen", "regimens"),
        ("target", "targets"),
        ("mechanism", "mechanisms"),
        ("condition", "conditions"),
        ("indication", "indications"),
    ]:
        record = examples()[name]["data"]
        curated = {r.slug: r for r in getattr(dataset, kind)}
        assert record["slug"] in curated, (name, record["slug"])
    source = examples()["source"]["data"]
    assert source["title"] == {s.slug: s for s in dataset.sources}[source["slug"]].title


def test_yaml_export_round_trips(document: dict[str, Any]) -> None:
    assert yaml.safe_load(openapi_yaml())["paths"].keys() == document["paths"].keys()


def test_every_operation_is_described(document: dict[str, Any]) -> None:
    for path, method, op in _operations(document):
        assert op.get("description"), (path, method)


PLATFORM = {"/healthz", "/readyz", "/metrics"}


def test_every_operation_shows_a_real_answer_and_every_body_an_example(document: dict[str, Any]) -> None:
    """Each operation's 200 carries an example for each media type it answers with (Infobutton: JSON and
    Atom; FHIR: application/fhir+json), and each request body one too."""
    for path, method, op in _operations(document):
        if path in PLATFORM:
            continue
        if "200" not in op["responses"]:  # an asynchronous kick-off or a cancel: 202, no body
            assert "202" in op["responses"], (path, method)
            continue
        content = op["responses"]["200"]["content"]
        assert content, (path, method)
        for media_type, entry in content.items():
            assert "example" in entry or "examples" in entry, (path, method, media_type)
        body = op.get("requestBody")
        if body is not None:
            for media_type, entry in body["content"].items():
                has_model_example = (
                    "$ref" in entry.get("schema", {})
                    and "examples" in document["components"]["schemas"][entry["schema"]["$ref"].split("/")[-1]]
                )
                assert "example" in entry or "examples" in entry or has_model_example, (path, method, media_type)
    infobutton = document["paths"]["/infobutton"]["get"]["responses"]["200"]["content"]
    assert infobutton["text/xml"]["example"].startswith("<?xml")
    assert "feed" in infobutton["application/json"]["example"]
    cds_call = document["paths"]["/cds-services/{service_id}"]["post"]
    assert cds_call["requestBody"]["content"]["application/json"]["example"]["hook"] == "order-sign"
    assert cds_call["responses"]["200"]["content"]["application/json"]["example"]["cards"]


def test_optional_parameters_have_plain_types(document: dict[str, Any]) -> None:
    """No `string | null` (Swagger UI showed "Fields (string) or Fields (null)"): a query string has no null."""
    for path, method, op in _operations(document):
        for parameter in op.get("parameters", []):
            text = repr(parameter["schema"])
            assert "'null'" not in text, (path, method, parameter["name"], text)


@pytest.mark.parametrize(
    ("name", "resource_type"),
    [
        ("fhir_capability_statement", "CapabilityStatement"),
        ("fhir_searchset", "Bundle"),
        ("fhir_medication_knowledge", "MedicationKnowledge"),
        ("fhir_structure_definition", "StructureDefinition"),
        ("fhir_code_system", "CodeSystem"),
    ],
)
def test_fhir_examples_are_valid_resources(name: str, resource_type: str) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    resource = examples()[name]
    assert resource["resourceType"] == resource_type
    get_fhir_model_class(resource_type).model_validate(resource)


def test_examples_json_is_what_build_examples_records() -> None:
    """The examples are real answers of the current code: `ldn-kb build-examples` would write the same file."""
    from app.buildtime.examples import build

    assert build() == examples(), "app/schemas/examples.json is stale: run `ldn-kb build-examples`"


def test_the_service_never_imports_build_time_code() -> None:
    code = (
        "import tempfile\n"
        "from app.main import create_app\n"
        "from app.settings import Settings\n"
        "folder = tempfile.mkdtemp()\n"
        "app = create_app(Settings(database_url=f'sqlite:///{folder}/x.sqlite3'))\n"
        "app.openapi()\n"
    )
    loaded = modules_left_loaded(
        code, ["app.buildtime", "app.buildtime.examples", "app.buildtime.settings_table", "fastapi.testclient"], ROOT
    )
    assert loaded == []


def test_cds_and_dose_check_request_examples_are_valid_requests() -> None:
    from app.integrations.cds_hooks.router import CdsRequest
    from app.schemas.dose_check import DoseCheckRequest

    CdsRequest.model_validate(examples()["cds_request"])
    DoseCheckRequest.model_validate(examples()["dose_check_request"])
