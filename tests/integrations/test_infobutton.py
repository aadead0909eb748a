"""Infobutton knowledge requests: codes in five systems, JSON and Atom, audiences, ages, errors."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient

from app.content.files import read_dataset
from tests.integrations.fixtures.infobutton_requests import FEMALE_67_DOSING, FEMALE_67_PROBLEM

DATASET = read_dataset()
ATOM = "{http://www.w3.org/2005/Atom}"
ICD = "2.16.840.1.113883.6.90"
SNOMED = "2.16.840.1.113883.6.96"


def _fibro_slugs() -> set[str]:
    return {i.slug for i in DATASET.indications if i.condition == "fibromyalgia"}


def test_icd10cm_m797_returns_fibromyalgia_in_json(client: TestClient) -> None:
    response = client.get(f"/infobutton?{FEMALE_67_PROBLEM}&knowledgeResponseType=application/json")
    assert response.status_code == 200, response.text
    feed = response.json()["feed"]
    links = [e["link"][0]["href"].rsplit("/", 1)[1] for e in feed["entry"]]
    assert set(links) == _fibro_slugs()
    assert {"scheme": "mainSearchCriteria.v.c", "term": "M79.7"} in feed["category"]
    assert {"scheme": "informationRecipient", "term": "PAT"} in feed["category"]
    fibro = next(i for i in DATASET.indications if i.condition == "fibromyalgia" and i.regimen == "low-dose-naltrexone")
    entry = next(e for e in feed["entry"] if e["id"]["_value"].endswith(fibro.slug))
    assert entry["summary"]["_value"].startswith(fibro.plain_summary)  # PAT: the plain-language text
    assert "not medical advice" in entry["summary"]["_value"]


def test_the_same_request_as_atom(client: TestClient) -> None:
    response = client.get(f"/infobutton?{FEMALE_67_PROBLEM}".replace("&knowledgeResponseType=application/json", ""))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    slugs = {e.find(f"{ATOM}id").text.rsplit("/", 1)[1] for e in entries}  # type: ignore[union-attr]
    assert slugs == _fibro_slugs()
    for entry in entries:
        for tag in ("title", "summary", "updated", "link"):
            assert entry.find(f"{ATOM}{tag}") is not None


def test_provider_gets_the_clinical_summary(client: TestClient) -> None:
    fibro = next(i for i in DATASET.indications if i.condition == "fibromyalgia" and i.regimen == "low-dose-naltrexone")
    params = f"mainSearchCriteria.v.c=M79.7&mainSearchCriteria.v.cs={ICD}&informationRecipient=PROV&knowledgeResponseType=application/json"
    feed = client.get(f"/infobutton?{params}").json()["feed"]
    entry = next(e for e in feed["entry"] if e["id"]["_value"].endswith(fibro.slug))
    assert entry["summary"]["_value"].startswith(fibro.clinical_summary)


def test_snomed_and_child_icd_codes(client: TestClient) -> None:
    fibro = next(c for c in DATASET.conditions if c.slug == "fibromyalgia")
    snomed = next(c.code for c in fibro.codes if c.system == "snomed-ct")
    params = f"mainSearchCriteria.v.c={snomed}&mainSearchCriteria.v.cs={SNOMED}&knowledgeResponseType=application/json"
    feed = client.get(f"/infobutton?{params}").json()["feed"]
    assert {e["id"]["_value"].rsplit("/", 1)[1] for e in feed["entry"]} == _fibro_slugs()
    crohn = next(c for c in DATASET.conditions if any(k.code == "K50" for k in c.codes))
    params = f"mainSearchCriteria.v.c=K50.90&mainSearchCriteria.v.cs={ICD}&knowledgeResponseType=application/json"
    feed = client.get(f"/infobutton?{params}").json()["feed"]
    expected = {i.slug for i in DATASET.indications if i.condition == crohn.slug}
    assert {e["id"]["_value"].rsplit("/", 1)[1] for e in feed["entry"]} == expected


def test_age_selects_the_population(client: TestClient) -> None:
    children = {r.slug for r in DATASET.regimens if r.population == "children"}
    crohn = next(c for c in DATASET.conditions if any(k.code == "K50" for k in c.codes))
    child_only = {i.slug for i in DATASET.indications if i.condition == crohn.slug and i.regimen in children}
    base = (
        f"/infobutton?mainSearchCriteria.v.c=K50&mainSearchCriteria.v.cs={ICD}&knowledgeResponseType=application/json"
    )
    adult = {
        e["id"]["_value"].rsplit("/", 1)[1] for e in client.get(f"{base}&age.v.v=40&age.v.u=a").json()["feed"]["entry"]
    }
    child = {
        e["id"]["_value"].rsplit("/", 1)[1] for e in client.get(f"{base}&age.v.v=10&age.v.u=a").json()["feed"]["entry"]
    }
    assert child_only, "the content has a children's regimen for Crohn's disease"
    assert child_only <= child and not (child_only & adult)


def test_rxnorm_returns_the_drug_regimens(client: TestClient) -> None:
    feed = client.get(f"/infobutton?{FEMALE_67_DOSING}&knowledgeResponseType=application/json").json()["feed"]
    slugs = {e["id"]["_value"].rsplit("/", 1)[1] for e in feed["entry"]}
    adults_or_any = {r.slug for r in DATASET.regimens if r.population != "children"}
    assert slugs == adults_or_any


def test_every_drug_code_the_record_serves_finds_its_regimens(client: TestClient) -> None:
    """Audit 8: ATC N07BB04 answered "ldn-kb holds no codes of code system 2.16.840.1.113883.6.73", while the
    drug record serves it. Each code of a system with an OID that the drug record carries (RxNorm, ATC, UNII)
    finds the drug's regimens, with the system named and without it."""
    oids = {"rxnorm": "2.16.840.1.113883.6.88", "atc": "2.16.840.1.113883.6.73", "unii": "2.16.840.1.113883.4.9"}
    drug = client.get("/v1/drugs/naltrexone").json()["data"]
    codes = [(i["system"], i["value"]) for i in drug["identifiers"] if i["system"] in oids]
    assert {system for system, _ in codes} == set(oids)
    regimens = {r.slug for r in DATASET.regimens if r.drug == "naltrexone"}
    for system, code in codes:
        for cs in (f"&mainSearchCriteria.v.cs={oids[system]}", ""):
            params = f"mainSearchCriteria.v.c={code}{cs}&knowledgeResponseType=application/json"
            feed = client.get(f"/infobutton?{params}").json()["feed"]
            slugs = {e["id"]["_value"].rsplit("/", 1)[1] for e in feed["entry"]}
            assert slugs == regimens, (system, code, cs, feed.get("subtitle"))
            assert "holds no codes" not in str(feed.get("subtitle"))


def test_a_code_with_a_mapping_caveat_says_it_in_the_entry(client: TestClient) -> None:
    """Audit 8: B27.00 found 'Reactivated EBV: off-label' with no word that B27.0- are mononucleosis codes and
    no code is confirmed for EBV reactivation; /v1 keeps that caveat (the code's version note). Every entry
    found by a code carries the note of the code it matched."""
    for code, words in (("B27.00", "no code is confirmed for EBV reactivation"), ("F41.1", "generalized anxiety")):
        params = f"mainSearchCriteria.v.c={code}&mainSearchCriteria.v.cs={ICD}&knowledgeResponseType=application/json"
        entries = client.get(f"/infobutton?{params}").json()["feed"]["entry"]
        assert entries
        for entry in entries:
            assert words in entry["summary"]["_value"], (code, entry["summary"]["_value"][:300])


def test_unknown_code_gives_an_empty_feed(client: TestClient) -> None:
    params = f"mainSearchCriteria.v.c=Z99.89&mainSearchCriteria.v.cs={ICD}&knowledgeResponseType=application/json"
    response = client.get(f"/infobutton?{params}")
    assert response.status_code == 200 and response.json()["feed"]["entry"] == []
    atom = ET.fromstring(client.get("/infobutton?mainSearchCriteria.v.c=Z99.89").content)
    assert atom.findall(f"{ATOM}entry") == []
    # Audit 8: an empty feed carried no disclaimer; every feed carries it as its rights
    assert "not medical advice" in response.json()["feed"]["rights"]["_value"]
    assert "not medical advice" in (atom.findtext(f"{ATOM}rights") or "")


def test_malformed_requests_are_400_problems(client: TestClient) -> None:
    cases = {
        "": "mainSearchCriteria.v.c",
        "mainSearchCriteria.v.c=M79.7&mainSearchCriteria.v.cs=ICD10CM": "mainSearchCriteria.v.cs",  # not an OID
        "mainSearchCriteria.v.c=M79.7&knowledgeResponseType=application/pdf": "knowledgeResponseType",
        "mainSearchCriteria.v.c=M79.7&informationRecipient=DOG": "informationRecipient",
        "mainSearchCriteria.v.c=M79.7&age.v.v=abc": "age.v.v",
        "mainSearchCriteria.v.c=M79.7&age.v.v=5&age.v.u=parsec": "age.v.u",
        "mainSearchCriteria.v.c=M79.7&colour=red": "colour",
        "mainSearchCriteria.v.c=<script>": "mainSearchCriteria.v.c",
    }
    for query, field in cases.items():
        response = client.get(f"/infobutton?{query}")
        assert response.status_code == 400, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field
