"""FHIR facade, issue 14: leniency, charset, _elements, _lastUpdated, versions and history, canonical URLs,
a truthful CapabilityStatement, lookup by url, ValueSets, and one catalogue per content version (not per host).

Every resource answered is validated with the fhir.resources R4B models and the bindings checked here
(``validate`` from test_fhir.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from sqlmodel import Session

from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.main import create_app
from app.settings import Settings
from tests.integrations.test_fhir import CANON, MK, all_ids, fhir_get, outcome, validate, walk

FHIR_UTF8 = "application/fhir+json; charset=utf-8"
STRICT = {"Prefer": "handling=strict"}
LENIENT = {"Prefer": "handling=lenient"}


def stamps(client: TestClient) -> dict[str, datetime]:
    bundle = fhir_get(client, f"{MK}?_count=100")
    return {e["resource"]["id"]: datetime.fromisoformat(e["resource"]["meta"]["lastUpdated"]) for e in bundle["entry"]}


def ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def outcome_entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"]


# --- Prefer: handling ----------------------------------------------------------------------------------


def test_lenient_by_default_ignores_and_reports_unknown_parameters(client: TestClient) -> None:
    plain = fhir_get(client, f"{MK}?status=active&_count=100")
    for headers in ({}, LENIENT):
        bundle = fhir_get(client, f"{MK}?status=active&colour=blue&_sort=-date&_count=100", headers=headers)
        assert ids(bundle) == ids(plain) and bundle["total"] == plain["total"]
        self_url = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
        assert "colour" not in self_url and "_sort" not in self_url and "status=active" in self_url
        [report] = outcome_entries(bundle)
        named = " ".join(issue["diagnostics"] for issue in report["issue"])
        assert "colour" in named and "_sort" in named
        assert {issue["severity"] for issue in report["issue"]} == {"warning"}
    # a read and the metadata ignore unknown parameters too
    assert fhir_get(client, f"{MK}/naltrexone?colour=blue")["id"] == "naltrexone"
    assert fhir_get(client, "/fhir/R4/metadata?colour=blue")["resourceType"] == "CapabilityStatement"


def test_strict_handling_rejects_unknown_parameters(client: TestClient) -> None:
    body = outcome(client.get(f"{MK}?status=active&colour=blue", headers=STRICT), 400)
    assert "colour" in body["issue"][0]["diagnostics"]
    outcome(client.get(f"{MK}/naltrexone?colour=blue", headers=STRICT), 400)
    outcome(client.get("/fhir/R4/metadata?colour=blue", headers=STRICT), 400)
    outcome(client.get("/fhir/R4/StructureDefinition?colour=blue", headers=STRICT), 400)
    # known parameters are fine under strict handling, and so are _format, _pretty and the cache buster _
    assert fhir_get(client, f"{MK}?status=active&_format=json&_pretty=true&_=1700000000", headers=STRICT)["total"]


def test_a_cached_lenient_answer_is_never_served_to_a_strict_client(client: TestClient) -> None:
    url = f"{MK}?status=active&unknown-parameter=1"
    first = client.get(url)
    assert first.status_code == 200 and "no-store" in first.headers["cache-control"]
    assert client.get(url).status_code == 200
    outcome(client.get(url, headers=STRICT), 400)


def test_unsupported_modifier_and_bad_values_are_400_in_both_modes(client: TestClient) -> None:
    for headers in ({}, STRICT):
        outcome(client.get(f"{MK}?code:text=naltrexone", headers=headers), 400)
        outcome(client.get(f"{MK}?_lastUpdated=yesterday", headers=headers), 400)
        outcome(client.get(f"{MK}?_count=ten", headers=headers), 400)
        outcome(client.get(f"{MK}", params={"_count": "²"}, headers=headers), 400)  # a digit, but not ASCII
    # a count or offset of thousands of digits is capped, not parsed (and not a 500)
    assert fhir_get(client, f"{MK}?_count={'9' * 5000}")["total"] == len(all_ids())
    assert "entry" not in fhir_get(client, f"{MK}?_offset={'9' * 5000}")


# --- media type ----------------------------------------------------------------------------------------


def test_every_answer_states_utf8(client: TestClient) -> None:
    urls = [
        "/fhir/R4/metadata",
        f"{MK}/naltrexone",
        f"{MK}?status=active",
        f"{MK}/naltrexone/_history",
        f"{MK}/_history",
        "/fhir/R4/StructureDefinition/evidence-level",
        "/fhir/R4/CodeSystem?_id=target",
        "/fhir/R4/ValueSet/verification",
        f"{MK}/no-such-id",
        f"{MK}?_count=-1",
        "/fhir/R4/Patient/1",
    ]
    for url in urls:
        response = client.get(url)
        assert response.headers["content-type"] == FHIR_UTF8, url
    assert client.get(f"{MK}/naltrexone", headers={"Accept": "application/json"}).headers["content-type"] == (
        "application/json; charset=utf-8"
    )
    response = client.get(f"{MK}/naltrexone", headers={"Accept": "application/fhir+xml"})
    assert (response.status_code, response.headers["content-type"]) == (406, FHIR_UTF8)
    response = client.post(f"{MK}/_search", content=b"x", headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.headers["content-type"]) == (415, FHIR_UTF8)


# --- _elements -----------------------------------------------------------------------------------------


def test_elements_on_search_and_read(client: TestClient) -> None:
    bundle = fhir_get(client, f"{MK}?_elements=code,status&_count=100")
    assert len(ids(bundle)) == len(all_ids())
    self_url = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert "_elements=code%2Cstatus" in self_url
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert set(resource) == {"resourceType", "id", "meta", "code", "status"}
        assert any(t["code"] == "SUBSETTED" for t in resource["meta"]["tag"])
    read = fhir_get(client, f"{MK}/naltrexone?_elements=synonym,contraindication")
    assert set(read) == {"resourceType", "id", "meta", "synonym", "contraindication", "contained"}
    full = fhir_get(client, f"{MK}/naltrexone")
    assert read["contained"] == full["contained"] and read["synonym"] == full["synonym"]
    definition = fhir_get(client, "/fhir/R4/CodeSystem/verification?_elements=url,concept")
    summary = fhir_get(client, "/fhir/R4/CodeSystem/verification?_summary=true")
    assert "concept" not in summary and summary["url"] and summary["content"] == "complete"
    sd = fhir_get(client, "/fhir/R4/StructureDefinition?_summary=true&_count=100")["entry"][0]["resource"]
    assert "differential" not in sd and sd["type"] == "Extension"
    # mandatory elements (status, content) come back whether asked for or not
    assert set(definition) == {"resourceType", "id", "meta", "url", "concept", "status", "content"}


def test_unknown_elements_follow_handling(client: TestClient) -> None:
    bundle = fhir_get(client, f"{MK}?_elements=code,colour&_id=naltrexone")
    assert set(bundle["entry"][-1]["resource"]) == {"resourceType", "id", "meta", "code"}
    assert "colour" in " ".join(i["diagnostics"] for i in outcome_entries(bundle)[0]["issue"])
    outcome(client.get(f"{MK}?_elements=code,colour", headers=STRICT), 400)


# --- _lastUpdated ----------------------------------------------------------------------------------------


def test_last_updated_prefixes(client: TestClient) -> None:
    when = stamps(client)
    everything = sorted(when)
    latest = max(when.values())
    newest = sorted(i for i, t in when.items() if t == latest)
    iso = latest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    day = latest.astimezone(UTC).date().isoformat()

    def search(value: str) -> list[str]:
        return sorted(ids(fhir_get(client, f"{MK}?_count=100", params={"_lastUpdated": value})))

    exact_second = sorted(i for i, t in when.items() if t.replace(microsecond=0) == latest.replace(microsecond=0))
    assert search(f"ge{iso}Z") == sorted(i for i, t in when.items() if t >= latest.replace(microsecond=0))
    assert set(newest) <= set(search(f"ge{iso}Z"))
    assert search(f"eq{iso}Z") == exact_second == search(f"{iso}+00:00")
    unencoded = fhir_get(client, f"{MK}?_count=100&_lastUpdated=eq{iso}+00:00")  # "+" read as a space
    assert sorted(ids(unencoded)) == exact_second
    assert search(f"gt{iso}Z") == []
    assert search(f"lt{iso}Z") == sorted(i for i, t in when.items() if t < latest.replace(microsecond=0))
    assert search(f"le{day}") == everything
    assert search(f"eq{day}") == sorted(i for i, t in when.items() if t.astimezone(UTC).date().isoformat() == day)
    assert search(f"ne{day}") == sorted(i for i, t in when.items() if t.astimezone(UTC).date().isoformat() != day)
    assert search("lt1990") == [] and search("gt1990-01") == everything
    assert search(f"sa{day}") == [] and search(f"eb{day}") == search(f"lt{day}")
    later = (latest + timedelta(days=400)).year
    assert search(f"ge{later}") == []
    # two values: AND (a range); a comma: OR
    assert sorted(ids(fhir_get(client, f"{MK}?_count=100&_lastUpdated=ge1990&_lastUpdated=le{day}"))) == everything
    assert search(f"lt1990,ge{iso}Z") == search(f"ge{iso}Z")
    for bad in (
        "xx2020",
        "ap2020",
        "2020-13",
        "2020-02-30",
        "20200101",
        "2020-01-01T25:00:00Z",
        "ge",
        "9999",
        "0001-01-01T00:00:00+14:00",
        "2020-01-01T00:00:00+24:00",
        "２０２０",
    ):
        outcome(client.get(f"{MK}", params={"_lastUpdated": bad}), 400)


def test_sort_and_total(client: TestClient) -> None:
    when = stamps(client)
    newest_first = [e["resource"] for e in fhir_get(client, f"{MK}?_sort=-_lastUpdated,_id&_count=100")["entry"]]
    keys = [(when[r["id"]], r["id"]) for r in newest_first]
    assert keys == sorted(keys, key=lambda k: (-k[0].timestamp(), k[1]))
    assert ids(fhir_get(client, f"{MK}?_sort=-_id&_count=100")) == sorted(all_ids(), reverse=True)
    assert ids(fhir_get(client, f"{MK}?_sort=_id&_count=100")) == all_ids()
    paged = fhir_get(client, f"{MK}?_sort=-_id&_count=2")
    next_url = next(link["url"] for link in paged["link"] if link["relation"] == "next")
    assert "_sort=-_id" in next_url
    second = fhir_get(client, next_url.removeprefix("http://testserver"))
    assert ids(paged) + ids(second) == sorted(all_ids(), reverse=True)[:4]
    assert "total" not in fhir_get(client, f"{MK}?_total=none")
    assert fhir_get(client, f"{MK}?_total=accurate")["total"] == len(all_ids())
    for bad in ("_sort=colour", "_sort=-code"):  # an unsupported key: ignored and reported, or a 400 when strict
        assert "_sort" in str(outcome_entries(fhir_get(client, f"{MK}?{bad}")))
        outcome(client.get(f"{MK}?{bad}", headers=STRICT), 400)
    outcome(client.get(f"{MK}?_total=maybe"), 400)


# --- versions, Last-Modified, history and vread -------------------------------------------------------------


def test_every_resource_has_version_and_last_updated(client: TestClient) -> None:
    cat = fhir_get(client, "/fhir/R4/metadata")
    served = [cat]
    for ident in all_ids():
        served.append(fhir_get(client, f"{MK}/{ident}"))
    for kind in ("StructureDefinition", "CodeSystem", "ValueSet"):
        bundle = fhir_get(client, f"/fhir/R4/{kind}?_count=100")
        assert bundle["total"] > 0
        served += [e["resource"] for e in bundle["entry"]]
    for resource in served:
        meta = resource["meta"]
        assert meta["versionId"] and meta["lastUpdated"], resource["id"]
        datetime.fromisoformat(meta["lastUpdated"])


def test_reads_carry_last_modified(client: TestClient) -> None:
    for url in (f"{MK}/naltrexone", f"{MK}/low-dose-naltrexone", "/fhir/R4/CodeSystem/target"):
        response = client.get(url)
        stamp = datetime.fromisoformat(response.json()["meta"]["lastUpdated"])
        assert parsedate_to_datetime(response.headers["last-modified"]) == stamp.replace(microsecond=0)


def test_instance_history_and_vread(client: TestClient) -> None:
    for ident in all_ids():
        current = fhir_get(client, f"{MK}/{ident}")
        history = fhir_get(client, f"{MK}/{ident}/_history")
        assert history["type"] == "history" and history["total"] == 1
        [entry] = history["entry"]
        assert entry["resource"] == current
        assert entry["fullUrl"] == f"http://testserver/fhir/R4/MedicationKnowledge/{ident}"
        version = current["meta"]["versionId"]
        response = client.get(f"{MK}/{ident}/_history/{version}")
        assert response.status_code == 200 and validate(response.json()) == current
        assert response.headers["last-modified"]
    outcome(client.get(f"{MK}/naltrexone/_history/not-a-version"), 404)
    outcome(client.get(f"{MK}/no-such-id/_history"), 404)
    outcome(client.get(f"{MK}/no-such-id/_history/1"), 404)
    # _since: the current version is listed only when it was updated at or after the instant
    stamp = fhir_get(client, f"{MK}/naltrexone")["meta"]["lastUpdated"]
    assert fhir_get(client, f"{MK}/naltrexone/_history", params={"_since": stamp})["total"] == 1
    later = (datetime.fromisoformat(stamp) + timedelta(days=1)).isoformat()
    assert fhir_get(client, f"{MK}/naltrexone/_history", params={"_since": later})["total"] == 0
    outcome(client.get(f"{MK}/naltrexone/_history", params={"_since": "not-a-date"}), 400)


def test_type_history_lists_every_current_version_newest_first(client: TestClient) -> None:
    history = fhir_get(client, f"{MK}/_history?_count=100")
    assert history["total"] == len(all_ids())
    listed = [e["resource"]["meta"]["lastUpdated"] for e in history["entry"]]
    assert listed == sorted(listed, reverse=True)
    assert sorted(e["resource"]["id"] for e in history["entry"]) == all_ids()
    page = fhir_get(client, f"{MK}/_history?_count=2")
    assert len(page["entry"]) == 2 and any(link["relation"] == "next" for link in page["link"])


def test_version_id_is_a_content_digest_stable_across_apps(client: TestClient, settings: Settings) -> None:
    first = fhir_get(client, f"{MK}/naltrexone")["meta"]["versionId"]
    with TestClient(create_app(settings)) as other:
        assert other.get(f"{MK}/naltrexone").json()["meta"]["versionId"] == first


# --- canonical URLs, lookup by url, ValueSets ------------------------------------------------------------


def canonical_urls(client: TestClient, headers: dict[str, str]) -> set[str]:
    """Every URL in our definitions and in the extensions / codings of every MedicationKnowledge."""
    urls: set[str] = set()
    for kind in ("StructureDefinition", "CodeSystem", "ValueSet"):
        bundle = client.get(f"/fhir/R4/{kind}?_count=100", headers=headers).json()
        for entry in bundle["entry"]:
            urls |= {n for _, n in walk(entry["resource"]) if isinstance(n, str) and n.startswith(("http", "urn"))}
    for ident in all_ids():
        resource = client.get(f"{MK}/{ident}", headers=headers).json()
        urls |= {n["url"] for _, n in walk(resource) if isinstance(n, dict) and "url" in n}
        urls |= {n["system"] for _, n in walk(resource) if isinstance(n, dict) and "system" in n}
    cap = client.get("/fhir/R4/metadata", headers=headers).json()
    urls.add(cap["url"])
    return urls


def test_canonical_urls_do_not_follow_the_host(client: TestClient) -> None:
    normal = canonical_urls(client, {})
    # Another host the service answers for (a Host outside LDNKB_ALLOWED_HOSTS is a 400 before any FHIR code).
    hostile = canonical_urls(client, {"Host": "localhost"})
    assert normal == hostile
    assert not any("localhost" in u or "testserver" in u for u in hostile)
    assert client.get("/fhir/R4/metadata", headers={"Host": "evil.example.org"}).status_code == 400
    assert f"{CANON}/CodeSystem/target" in hostile and f"{CANON}/StructureDefinition/evidence-level" in hostile
    # the server's address is a link (app.api.responses.base_url decides which host it names); the statement's
    # own canonical URL is not
    cap = client.get("/fhir/R4/metadata").json()
    assert cap["implementation"]["url"] == "http://testserver/fhir/R4"
    assert cap["url"] == f"{CANON}/CapabilityStatement/ldn-kb"


@pytest.fixture(scope="module")
def configured(settings: Settings) -> Iterator[TestClient]:
    custom = settings.model_copy(update={"fhir_canonical_base": "https://kb.example.net/fhir"})
    with TestClient(create_app(custom)) as other:
        yield other


def test_canonical_base_is_configuration(configured: TestClient) -> None:
    sd = fhir_get(configured, "/fhir/R4/StructureDefinition/evidence-level")
    assert sd["url"] == "https://kb.example.net/fhir/StructureDefinition/evidence-level"
    mk = configured.get(f"{MK}/naltrexone").json()
    ext_urls = {n["url"] for _, n in walk(mk) if isinstance(n, dict) and "/StructureDefinition/" in str(n.get("url"))}
    assert ext_urls and all(u.startswith("https://kb.example.net/fhir/StructureDefinition/") for u in ext_urls)


def test_lookup_by_url(client: TestClient) -> None:
    for kind, ident in (("StructureDefinition", "source-citation"), ("CodeSystem", "term"), ("ValueSet", "target")):
        url = f"{CANON}/{kind}/{ident}"
        bundle = fhir_get(client, f"/fhir/R4/{kind}", params={"url": url})
        assert bundle["type"] == "searchset" and bundle["total"] == 1
        assert bundle["entry"][0]["resource"]["url"] == url
        assert bundle["entry"][0]["fullUrl"] == f"http://testserver/fhir/R4/{kind}/{ident}"
        assert fhir_get(client, f"/fhir/R4/{kind}", params={"url": url + "-nope"})["total"] == 0
        assert fhir_get(client, f"/fhir/R4/{kind}", params={"url": url, "version": "1"})["total"] == 1
        assert fhir_get(client, f"/fhir/R4/{kind}", params={"url": url, "status": "retired"})["total"] == 0
        outcome(client.get(f"/fhir/R4/{kind}", params={"url:below": url}), 400)


def test_required_bindings_have_published_value_sets(client: TestClient) -> None:
    systems = {e["resource"]["url"] for e in fhir_get(client, "/fhir/R4/CodeSystem?_count=100")["entry"]}
    required = [
        node
        for e in fhir_get(client, "/fhir/R4/StructureDefinition?_count=100")["entry"]
        for _, node in walk(e["resource"])
        if isinstance(node, dict) and node.get("strength") == "required"
    ]
    assert required
    for binding in required:
        found = fhir_get(client, "/fhir/R4/ValueSet", params={"url": binding["valueSet"]})
        assert found["total"] == 1
        value_set = found["entry"][0]["resource"]
        included = {i["system"] for i in value_set["compose"]["include"]}
        assert included and included <= systems


# --- CapabilityStatement ---------------------------------------------------------------------------------


def test_capability_statement_tells_the_truth(client: TestClient) -> None:
    cap = fhir_get(client, "/fhir/R4/metadata")
    text = " ".join(str(n) for _, n in walk(cap) if isinstance(n, str))
    for docstring_marker in ("``", ":func:", ":class:", '"""', "Design (see"):
        assert docstring_marker not in text
    for resource in cap["rest"][0]["resource"]:
        kind = resource["type"]
        assert resource["conditionalRead"] == "not-match"
        codes = {i["code"] for i in resource["interaction"]}
        some = fhir_get(client, f"/fhir/R4/{kind}?_count=1")["entry"][0]["resource"]
        response = client.get(f"/fhir/R4/{kind}/{some['id']}")
        assert "read" in codes and response.status_code == 200
        # conditionalRead not-match: If-None-Match with the ETag is a 304
        assert (
            client.get(f"/fhir/R4/{kind}/{some['id']}", headers={"If-None-Match": response.headers["etag"]}).status_code
            == 304
        )
        if "vread" in codes:
            assert client.get(f"/fhir/R4/{kind}/{some['id']}/_history/{some['meta']['versionId']}").status_code == 200
        if "history-instance" in codes:
            assert client.get(f"/fhir/R4/{kind}/{some['id']}/_history").status_code == 200
        if "history-type" in codes:
            assert client.get(f"/fhir/R4/{kind}/_history").status_code == 200
        # every search parameter listed is understood under strict handling
        for param in resource["searchParam"]:
            value = {"number": "1", "date": "ge2000-01-01", "uri": "http://x"}.get(param["type"], "x")
            value = {"_summary": "count", "_elements": "id", "_sort": "-_lastUpdated", "_total": "accurate"}.get(
                param["name"], value
            )
            response = client.get(f"/fhir/R4/{kind}", params={param["name"]: value}, headers=STRICT)
            assert response.status_code == 200, (kind, param["name"], response.text)


def test_every_fhir_operation_is_described(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    fhir = {(p, m): op for p, ops in paths.items() if p.startswith("/fhir/") for m, op in ops.items()}
    assert len(fhir) >= 12
    for where, op in fhir.items():
        assert op.get("summary") and len(op.get("description", "")) > 40, where


# --- one catalogue per content version, whatever the Host --------------------------------------------------


def test_a_new_host_per_request_rebuilds_nothing(client: TestClient, settings: Settings) -> None:
    # A deployment that answers for a whole domain (LDNKB_ALLOWED_HOSTS=.example.org): every subdomain a Host.
    many_hosts = create_app(settings.model_copy(update={"allowed_hosts": [".example.org", "testserver"]}))
    with TestClient(many_hosts) as other:
        other.get(f"{MK}?status=active")
        holder = many_hosts.state.fhir_catalogues
        builds = holder.builds
        assert builds == 1
        for n in range(25):
            response = other.get(f"{MK}?status=active&_count=3", headers={"Host": f"h{n}.example.org"})
            assert response.status_code == 200
            bundle = response.json()
            # links are made per answer from base_url(request) (the request's host here, unless a public base
            # URL is configured); the resources themselves are shared
            base = bundle["link"][0]["url"].split("/fhir/R4/", 1)[0]
            assert base == f"http://h{n}.example.org"
            assert all(e["fullUrl"].startswith(f"{base}/fhir/R4/MedicationKnowledge/") for e in bundle["entry"])
        assert holder.builds == builds


def test_a_new_content_version_moves_versions_and_last_updated(client: TestClient, app: FastAPI) -> None:
    before = {i: fhir_get(client, f"{MK}/{i}") for i in all_ids()}
    holder = app.state.fhir_catalogues  # made by the first FHIR request: this test may run first of its module
    builds = holder.builds
    dataset = read_dataset()
    target = next(r for r in dataset.regimens if r.slug == "low-dose-naltrexone")
    edited = dataset.model_copy(
        update={
            "regimens": [
                r.model_copy(update={"clinical_summary": r.clinical_summary + " (edited)"}) if r is target else r
                for r in dataset.regimens
            ]
        }
    )
    with Session(app.state.engine) as session:
        load_dataset(session, edited)
    try:
        after = {i: fhir_get(client, f"{MK}/{i}") for i in all_ids()}
        assert holder.builds == builds + 1  # rebuilt once for the new version, not per request
        changed = {i for i in all_ids() if after[i]["meta"]["versionId"] != before[i]["meta"]["versionId"]}
        assert changed == {"low-dose-naltrexone"}  # only the resource whose content changed
        assert "(edited)" in after["low-dose-naltrexone"]["text"]["div"]
        old_stamp = max(before[i]["meta"]["lastUpdated"] for i in all_ids())
        moved = sorted(ids(fhir_get(client, f"{MK}?_count=100", params={"_lastUpdated": f"gt{old_stamp}"})))
        assert "low-dose-naltrexone" in moved
        assert set(moved) == {i for i in all_ids() if after[i]["meta"]["lastUpdated"] > old_stamp}
        # the old version is no longer held; the new one reads
        old_version = before["low-dose-naltrexone"]["meta"]["versionId"]
        outcome(client.get(f"{MK}/low-dose-naltrexone/_history/{old_version}"), 404)
        new_version = after["low-dose-naltrexone"]["meta"]["versionId"]
        assert client.get(f"{MK}/low-dose-naltrexone/_history/{new_version}").status_code == 200
    finally:
        with Session(app.state.engine) as session:
            load_dataset(session, dataset)


def _stable(node: Any) -> Any:
    """A FHIR answer without what moves with each load (timestamps, and the digests that cover them)."""
    if isinstance(node, dict):
        return {k: _stable(v) for k, v in node.items() if k not in ("lastUpdated", "versionId", "date", "version")}
    if isinstance(node, list):
        return [_stable(v) for v in node]
    return node


def test_documented_examples_are_live_answers(settings: Settings) -> None:
    from app.integrations.fhir import examples

    public = settings.model_copy(update={"public_base_url": "https://ldn-kb.example"})
    with TestClient(create_app(public)) as other:
        for name, request in examples.EXAMPLE_REQUESTS.items():
            documented = getattr(examples, f"{name}_EXAMPLE")
            live = other.get(request).json()
            get_fhir_model_class(live["resourceType"]).model_validate(live)
            assert _stable(live) == _stable(documented), f"{name}: regenerate app/integrations/fhir/examples.py"
    paths = create_app(settings).openapi()["paths"]
    for path, ops in paths.items():
        # The facade's resources; the Bulk Data operations answer 202s, manifests and NDJSON, with their own
        # examples (tests/api/test_openapi.py).
        if path.startswith("/fhir/") and "$export" not in path:
            for method, op in ops.items():
                assert op["responses"]["200"]["content"]["application/fhir+json"]["example"], (method, path)
