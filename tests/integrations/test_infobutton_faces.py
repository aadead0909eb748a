"""Infobutton, issue 14: every parameter of the URL-based guide accepted, cache busters, empty feeds for code
systems we do not hold, entry links to the pages for people, and an OpenAPI description that tells the truth."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree as ET

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.integrations.infobutton.examples import EXAMPLE_JSON, EXAMPLE_QUERY
from tests.integrations.fixtures.infobutton_requests import EVERY_IG_PARAMETER, FEMALE_67_PROBLEM

ATOM = "{http://www.w3.org/2005/Atom}"
ICD10 = "2.16.840.1.113883.6.90"
COLLECTIONS = {"drugs", "regimens", "targets", "mechanisms", "conditions", "indications", "sources"}
JSON = {"knowledgeResponseType": "application/json"}


def feed(client: TestClient, params: list[tuple[str, str]] | dict[str, str] | str) -> dict[str, Any]:
    query = params if isinstance(params, str) else urlencode(params)
    response = client.get(f"/infobutton?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["feed"]
    return body


def entry_ids(data: dict[str, Any]) -> list[str]:
    return [e["id"]["_value"] for e in data["entry"]]


def test_every_parameter_of_the_guide_is_accepted_and_ignored(client: TestClient) -> None:
    plain = {"mainSearchCriteria.v.c": "M79.7", "mainSearchCriteria.v.cs": ICD10, **JSON}
    expected = entry_ids(feed(client, plain))
    assert expected
    everything = [*plain.items(), *EVERY_IG_PARAMETER]
    assert entry_ids(feed(client, everything)) == expected
    for name, value in EVERY_IG_PARAMETER:  # one at a time, so a rejected one is named
        assert entry_ids(feed(client, [*plain.items(), (name, value)])) == expected, name
    # the same as Atom
    atom = client.get("/infobutton?" + urlencode([(k, v) for k, v in everything if k != "knowledgeResponseType"]))
    assert atom.status_code == 200 and len(ET.fromstring(atom.content).findall(f"{ATOM}entry")) == len(expected)


def test_cache_busters_are_accepted(client: TestClient) -> None:
    base = f"{FEMALE_67_PROBLEM}&knowledgeResponseType=application/json"
    expected = entry_ids(feed(client, base))
    assert entry_ids(feed(client, f"{base}&_=1732780000000")) == expected
    assert entry_ids(feed(client, f"{base}&_=")) == expected


def test_a_name_outside_the_guide_is_still_a_400(client: TestClient) -> None:
    for name in ("colour", "mainSearchCriterion.v.c", "callback"):
        response = client.get(f"/infobutton?mainSearchCriteria.v.c=M79.7&{name}=x")
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == name


def test_code_systems_we_do_not_hold_give_an_empty_feed(client: TestClient) -> None:
    # ICD-9-CM, LOINC, NDC, CPT, MeSH: valid requests we hold nothing for (as MedlinePlus Connect answers)
    for oid in ("2.16.840.1.113883.6.103", "2.16.840.1.113883.6.1", "2.16.840.1.113883.6.69", "2.16.840.1.113883.6.12"):
        data = feed(client, {"mainSearchCriteria.v.c": "M79.7", "mainSearchCriteria.v.cs": oid, **JSON})
        assert data["entry"] == [], oid
        assert {"scheme": "mainSearchCriteria.v.cs", "term": oid} in data["category"]
        atom = client.get("/infobutton", params={"mainSearchCriteria.v.c": "M79.7", "mainSearchCriteria.v.cs": oid})
        assert atom.status_code == 200 and ET.fromstring(atom.content).findall(f"{ATOM}entry") == []
    # an ICD-10-CM code asked for under ICD-10-CM still answers
    assert feed(client, {"mainSearchCriteria.v.c": "M79.7", "mainSearchCriteria.v.cs": ICD10, **JSON})["entry"]
    # a value that is no OID at all is a malformed request
    for bad in ("ICD9CM", "2.16..840", "http://hl7.org/fhir/sid/icd-9-cm"):
        response = client.get("/infobutton", params={"mainSearchCriteria.v.c": "M79.7", "mainSearchCriteria.v.cs": bad})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "mainSearchCriteria.v.cs"


def test_entry_links_point_to_the_pages_for_people(client: TestClient, app: FastAPI) -> None:
    pages_served = any(str(getattr(r, "path", "")).startswith("/pages") for r in app.routes)
    queries = [
        f"{FEMALE_67_PROBLEM}&knowledgeResponseType=application/json",
        "mainSearchCriteria.v.c=7243&mainSearchCriteria.v.cs=2.16.840.1.113883.6.88&knowledgeResponseType=application/json",
    ]
    seen = 0
    for query in queries:
        for entry in feed(client, query)["entry"]:
            page, data = entry["link"]
            assert (page["rel"], page["type"]) == ("alternate", "text/html")
            path = urlsplit(page["href"]).path.split("/")
            assert page["href"].startswith("http://testserver/pages/")
            assert len(path) == 4 and path[2] in COLLECTIONS and path[3], page["href"]
            assert entry["id"]["_value"] == page["href"]
            assert data["type"] == "application/json" and data["href"].endswith(f"/v1/{path[2]}/{path[3]}")
            assert client.get(urlsplit(data["href"]).path).status_code == 200
            if pages_served:  # the pages are built on another branch; once merged, each link opens one
                response = client.get(urlsplit(page["href"]).path, headers={"Accept": "text/html"})
                assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
            seen += 1
    assert seen >= 2
    atom = ET.fromstring(client.get(f"/infobutton?{FEMALE_67_PROBLEM}").content)
    for entry in atom.findall(f"{ATOM}entry"):
        first = entry.find(f"{ATOM}link")
        assert first is not None and "/pages/" in first.get("href", "") and first.get("type") == "text/html"


def test_payor_recipient_gets_the_clinical_summary(client: TestClient) -> None:
    base = {"mainSearchCriteria.v.c": "M79.7", "mainSearchCriteria.v.cs": ICD10, **JSON}
    payor = feed(client, {**base, "informationRecipient": "PAYOR"})
    prov = feed(client, {**base, "informationRecipient": "PROV"})
    assert [e["summary"] for e in payor["entry"]] == [e["summary"] for e in prov["entry"]]


def operation(app: FastAPI) -> dict[str, Any]:
    op: dict[str, Any] = app.openapi()["paths"]["/infobutton"]["get"]
    return op


def test_openapi_describes_the_required_parameter(app: FastAPI, client: TestClient) -> None:
    params = {p["name"]: p for p in operation(app)["parameters"]}
    code = params["mainSearchCriteria.v.c"]
    assert code["required"] is True and code["in"] == "query" and code["description"]
    schema = code["schema"]
    assert schema["type"] == "string" and schema["pattern"] and schema["maxLength"] == 30 and schema["minLength"] == 1
    # what the schema allows is accepted: its examples, and every enumerated value of the other parameters
    for example in code["examples"].values():
        assert client.get("/infobutton", params={"mainSearchCriteria.v.c": example["value"]}).status_code == 200
    assert client.get("/infobutton", params={"mainSearchCriteria.v.c": "a" * 30}).status_code == 200
    for name, param in params.items():
        assert param["description"], name
        schemas = param["schema"].get("anyOf", [param["schema"]])
        for value in [v for schema in schemas for v in schema.get("enum", [])] + (
            [""] if not param["required"] else []
        ):
            response = client.get("/infobutton", params={"mainSearchCriteria.v.c": "M79.7", name: value})
            assert response.status_code == 200, (name, value, response.text)
    # and what it forbids is refused
    for bad in ("", "a" * 31, "M79 7", " M79.7"):
        assert client.get("/infobutton", params={"mainSearchCriteria.v.c": bad}).status_code == 400, bad
    assert client.get("/infobutton").status_code == 400
    for name, bad in (("informationRecipient", "pat"), ("age.v.u", "years"), ("age.v.v", "-1"), ("age.v.v", "151")):
        response = client.get("/infobutton", params={"mainSearchCriteria.v.c": "M79.7", name: bad})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == name, (name, bad)


def test_openapi_shows_atom_and_json_examples_of_the_live_answer(app: FastAPI, client: TestClient) -> None:
    content = operation(app)["responses"]["200"]["content"]
    atom = ET.fromstring(content["text/xml"]["example"])
    assert atom.tag == f"{ATOM}feed" and atom.findall(f"{ATOM}entry")
    example = content["application/json"]["example"]
    assert example == EXAMPLE_JSON
    live = feed(client, f"{EXAMPLE_QUERY}&knowledgeResponseType=application/json")
    documented = example["feed"]["entry"][0]
    current = next(e for e in live["entry"] if e["title"] == documented["title"])
    assert current["summary"] == documented["summary"]
    assert [urlsplit(link["href"]).path for link in current["link"]] == [
        urlsplit(link["href"]).path for link in documented["link"]
    ]
