"""``ldn-kb build-examples``: record the OpenAPI examples from real answers of the service.

The service is started in-process on a fresh SQLite store loaded with the curated dataset, every
operation is called once with the requests below, and the answers (lists cut to a few items, clock
times fixed) are written to ``app/schemas/examples.json``. Nothing in that file is typed by hand: a
request body is an input we chose (built from the reference's codes), every response is what the
service answered to it. ``app/schemas/openapi.py`` attaches each one to its operation.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from app.schemas.examples import EXAMPLES_FILE

EXAMPLE_BASE_URL = "http://127.0.0.1:8000"
TIMESTAMP = "2025-01-01T00:00:00+00:00"
_LIST_ITEMS = 2
#: Bookkeeping clock times (ours, FHIR's and Atom's), fixed so the examples do not change at every build.
_CLOCK_KEYS = {
    "changed_at",
    "transactionTime",
    "created_at",
    "updated_at",
    "last_updated",
    "date",
    "lastUpdated",
    "updated",
    "outcomeTimestamp",
}
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def resources() -> dict[str, tuple[str, str]]:
    """Example name -> (collection path, slug of the record shown; empty: the first), one per declared kind."""
    from app.kinds import KINDS

    return {kind.singular: (f"/v1/{kind.name}", kind.example_slug) for kind in KINDS}


# --- The requests (inputs we chose; codes from ../shared/reference/naltrexone-facts.md) -----------------
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NALTREXONE_RXCUI = "7243"  # RxNorm ingredient, as the reference lists it
DOSE_CHECK_BODY = {"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "oral"}
DOSE_CHECK_QUERY = {"amount": "380", "unit": "mg", "frequency": "every 4 weeks", "route": "intramuscular"}
INFOBUTTON_QUERY = {
    "mainSearchCriteria.v.c": "M79.7",
    "mainSearchCriteria.v.cs": "2.16.840.1.113883.6.90",
    "mainSearchCriteria.v.dn": "Fibromyalgia",
    "taskContext.c.c": "PROBLISTREV",
}
FHIR_SEARCH = {"code": "7243", "_count": "1"}


def cds_order_sign_request() -> dict[str, Any]:
    """An order-sign call after the CDS Hooks 2.0 example, with a low-dose naltrexone MedicationRequest."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "ldn-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": NALTREXONE_RXCUI, "display": "naltrexone"}],
            "text": "naltrexone 4.5 MG by mouth nightly",
        },
        "subject": {"reference": "Patient/example"},
        "dosageInstruction": [
            {
                "text": "naltrexone 4.5 MG by mouth nightly",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}, "code": {"text": "nightly"}},
                "route": {"text": "Oral route"},
                "doseAndRate": [
                    {"doseQuantity": {"value": 4.5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}
                ],
            }
        ],
    }
    return {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://fhir.example.org",
        "hook": "order-sign",
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": "1288992",
            "encounterId": "89284",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
        },
    }


def _fixed(value: Any, *, trim: bool = True) -> Any:
    """Lists cut to a few items (when ``trim``), clock times fixed; the shape stays whole."""
    if isinstance(value, list):
        return [_fixed(v, trim=trim) for v in (value[:_LIST_ITEMS] if trim else value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "versionId" and isinstance(item, str):  # a digest that covers the clock times: fixed too
                out[key] = "0" * len(item)
            elif (key in _CLOCK_KEYS and isinstance(item, str) and _ISO_TIME.fullmatch(item)) or (
                key == "_value" and isinstance(item, str) and _ISO_TIME.fullmatch(item)
            ):
                out[key] = TIMESTAMP
            else:
                out[key] = _fixed(item, trim=trim)
        return out
    return value


def build() -> dict[str, Any]:
    """Every example by name, from the answers of a fresh service on the curated dataset."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/examples.sqlite3", access_log=False)
        with TestClient(create_app(settings), base_url=EXAMPLE_BASE_URL) as client:

            def ok(response: Any) -> Any:
                assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
                return response

            out: dict[str, Any] = {}
            for name, (path, slug) in resources().items():
                listed = ok(client.get(path, params={"limit": 1})).json()
                listed["data"] = listed["data"][:1]
                out[f"{name}_list"] = _fixed(listed)
                chosen = slug or listed["data"][0]["slug"]
                out[name] = _fixed(ok(client.get(f"{path}/{chosen}")).json())
            out["index"] = _fixed(ok(client.get("/v1")).json(), trim=False)
            out["index_html"] = ok(client.get("/", headers={"Accept": "text/html"})).text
            out["evidence_levels"] = _fixed(ok(client.get("/v1/evidence-levels")).json(), trim=False)
            out["problem_types"] = _fixed(ok(client.get("/problems")).json(), trim=False)
            out["problem_type"] = ok(client.get("/problems/not-found")).json()
            out["search"] = _fixed(ok(client.get("/v1/search", params={"q": "fibro", "limit": 2})).json())

            out["dose_check_request"] = DOSE_CHECK_BODY
            out["dose_check"] = _fixed(ok(client.post("/v1/dose-check", json=DOSE_CHECK_BODY)).json())
            out["dose_check_query"] = _fixed(ok(client.get("/v1/dose-check", params=DOSE_CHECK_QUERY)).json())

            discovery = ok(client.get("/cds-services")).json()
            out["cds_discovery"] = discovery
            sign = next(s["id"] for s in discovery["services"] if s["hook"] == "order-sign")
            request = cds_order_sign_request()
            answer = ok(client.post(f"/cds-services/{sign}", json=request)).json()
            out["cds_request"] = request
            out["cds_response"] = answer
            card = answer["cards"][0]
            item: dict[str, Any] = {"card": card["uuid"], "outcomeTimestamp": TIMESTAMP}
            if card.get("suggestions"):
                item |= {"outcome": "accepted", "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}]}
            else:  # CDS Hooks 2.0: an override names one of the card's overrideReasons
                reason = card["overrideReasons"][0]
                item |= {"outcome": "overridden", "overrideReason": {"reason": reason, "userComment": "Reviewed."}}
            feedback = {"feedback": [item]}
            out["cds_feedback_request"] = feedback
            out["cds_feedback_response"] = ok(client.post(f"/cds-services/{sign}/feedback", json=feedback)).json()

            info_json = client.get(
                "/infobutton", params={**INFOBUTTON_QUERY, "knowledgeResponseType": "application/json"}
            )
            out["infobutton_json"] = _fixed(ok(info_json).json(), trim=False)
            atom = ok(client.get("/infobutton", params=INFOBUTTON_QUERY)).text
            out["infobutton_atom"] = _ISO_TIME.sub(TIMESTAMP, atom)

            out["fhir_capability_statement"] = _fixed(ok(client.get("/fhir/R4/metadata")).json(), trim=False)
            searchset = ok(client.get("/fhir/R4/MedicationKnowledge", params=FHIR_SEARCH)).json()
            out["fhir_search_form"] = "&".join(f"{k}={v}" for k, v in FHIR_SEARCH.items())
            out["fhir_searchset"] = _fixed(searchset)
            first = searchset["entry"][0]["resource"]
            out["fhir_medication_knowledge"] = _fixed(
                ok(client.get(f"/fhir/R4/MedicationKnowledge/{first['id']}")).json()
            )
            capability = out["fhir_capability_statement"]
            profile_url = next(
                (url for r in capability["rest"][0]["resource"] for url in r.get("supportedProfile", [])), None
            )
            definitions = [ext["url"] for ext in first.get("extension", []) if isinstance(ext.get("url"), str)] + (
                [profile_url] if profile_url else []
            )
            out.update(_definitions(client, ok, definitions, first))
            out.update(_sync_and_pages(client, ok))
    return out


def _sync_and_pages(client: Any, ok: Any) -> dict[str, Any]:
    """The changes feed, revisions, the export manifest, the pages and a FHIR Bulk Data job."""
    out: dict[str, Any] = {}
    changes = _fixed(ok(client.get("/v1/changes", params={"limit": 2})).json())
    for item in changes["data"]:  # the ETags follow the records' clock times: fixed like them
        item["etag"] = '"' + "0" * 32 + '"' if item["etag"] else None
    out["changes"] = changes
    out["revisions"] = _fixed(ok(client.get("/v1/regimens/low-dose-naltrexone/revisions")).json())
    revision = ok(client.get("/v1/regimens/low-dose-naltrexone/revisions/1")).json()
    out["revision"] = _fixed(revision, trim=False)
    manifest = _fixed(ok(client.get("/v1/export")).json(), trim=False)
    for item in manifest["data"]["files"]:  # the files hold the records' clock times: digests fixed like them
        item["sha256"] = item["ndjson_sha256"] = "0" * 64
        item["bytes"] = 0
    sqlite = manifest["data"]["sqlite"]  # the store holds the load's clock times too
    sqlite["sha256"], sqlite["bytes"] = "0" * 64, 0
    out["export_manifest"] = manifest
    page = ok(client.get("/pages/regimens/low-dose-naltrexone")).text
    out["page_record"] = _ISO_TIME.sub(TIMESTAMP, page)
    out["page_collection"] = _ISO_TIME.sub(TIMESTAMP, ok(client.get("/pages/regimens")).text)
    out["page_index"] = _ISO_TIME.sub(TIMESTAMP, ok(client.get("/pages/")).text)
    out["pages_css"] = ok(client.get("/pages/static/pages.css")).text
    kick_off = client.get(
        "/fhir/R4/$export", params={"_type": "MedicationKnowledge"}, headers={"Prefer": "respond-async"}
    )
    assert kick_off.status_code == 202, kick_off.text
    status = ok(client.get(kick_off.headers["content-location"])).json()
    job = re.sub(r"/\$export-status/.*", "/$export-status/JOB", kick_off.headers["content-location"])
    status["request"] = status["request"]
    for item in status["output"]:
        ndjson = ok(client.get(item["url"])).text
        out["fhir_bulk_ndjson"] = _ISO_TIME.sub(TIMESTAMP, ndjson.splitlines()[0]) + "\n"
        item["url"] = re.sub(r"/\$export-output/[^/]+/", "/$export-output/JOB/", item["url"])
    out["fhir_bulk_manifest"] = _fixed(status, trim=False)
    out["fhir_bulk_status_url"] = job
    return out


def _definitions(client: Any, ok: Any, urls: list[str], resource: dict[str, Any]) -> dict[str, Any]:
    """A StructureDefinition and a CodeSystem the service publishes, found from the links it gives."""
    out: dict[str, Any] = {}
    for url in urls:
        found = re.search(r"/StructureDefinition/([^/?#]+)$", url)
        if found:
            out["fhir_structure_definition"] = _fixed(ok(client.get(f"/fhir/R4/StructureDefinition/{found[1]}")).json())
            break
    for system in re.findall(r'"system":\s*"([^"]*/CodeSystem/[^"]+)"', json.dumps(resource)):
        code_system = re.search(r"/CodeSystem/([^/?#]+)$", system)
        if code_system:
            out["fhir_code_system"] = _fixed(ok(client.get(f"/fhir/R4/CodeSystem/{code_system[1]}")).json())
            break
    return out


def write(path: Path = EXAMPLES_FILE) -> Path:
    path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
