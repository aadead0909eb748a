"""GET /v1/search over the real app, on SQLite and PostgreSQL: what people type lands on the right record,
bad input is a problem, and both stores give the same hits in the same order for the same content.

Expectations come from the curated content (read from its files or through the list API), not from
hard-coded counts; where the brief names a record (the low-dose regimen, fibromyalgia) the test says so.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api.v1.search import SearchList
from app.content.files import read_dataset
from app.content.loader import load_dataset
from app.domain.search_text import abbreviation_pairs, document_tokens, fold, parse_query, words
from app.main import create_app
from app.settings import Settings
from tests.conftest import PG_ENV, _drop_postgres, _fresh_postgres

DATASET = read_dataset()
MATCH_ORDER = ["code", "code-header", "code-child", "label", "label-prefix", "label-words", "text"]
Hit = tuple[str, str]


def _search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": q, "limit": 50, **params})
    assert response.status_code == 200, (q, response.text)
    body: dict[str, Any] = response.json()
    return body


def _hits(client: TestClient, q: str, **params: Any) -> list[Hit]:
    return [(h["kind"], h["slug"]) for h in _search(client, q, **params)["data"]]


def _all(client: TestClient, path: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, str] | None = {"limit": "100", **params}
    while url:
        body = client.get(url, params=query).json()
        items.extend(body["data"])
        url, query = body["links"]["next"], None
    return items


def _condition_codes(system: str) -> list[tuple[str, str, str | None]]:
    """(condition slug, code, kind) for every code of ``system`` in the curated conditions."""
    return [(c.slug, k.code, k.kind) for c in DATASET.conditions for k in c.codes if k.system == system]


# ------------------------------------------------------------------------------------ what people type


@pytest.mark.parametrize("q", ["LDN", "ldn", "low dose naltrexone", "Low-dose naltrexone", "LOW DOSE NALTREXONE"])
def test_ldn_and_its_spelled_out_forms_land_on_the_low_dose_regimen(client: TestClient, q: str) -> None:
    body = _search(client, q)
    assert (body["data"][0]["kind"], body["data"][0]["slug"]) == ("regimens", "low-dose-naltrexone")
    assert body["data"][0]["match"] == "label"


def test_tlr4_in_every_spelling_lands_on_the_tlr4_target_and_gives_one_answer(client: TestClient) -> None:
    tlr4_targets = {("targets", t["slug"]) for t in _all(client, "/v1/targets") if t.get("gene_symbol") == "TLR4"}
    tlr4_mechanisms = {("mechanisms", m["slug"]) for m in _all(client, "/v1/mechanisms", target="TLR4")}
    assert tlr4_targets, "the content has a target with gene symbol TLR4"
    answers = {q: _hits(client, q) for q in ["TLR-4", "TLR4", "tlr4", "tlr 4", "Tlr-4"]}
    for q, hits in answers.items():
        assert hits[0] in tlr4_targets | tlr4_mechanisms, q
        assert tlr4_mechanisms <= set(hits[:10]), q
    assert len({h[0] for h in answers.values()}) == 1, "every spelling gives the same first hit"
    assert len({frozenset(h[:3]) for h in answers.values()}) == 1, "and the same top three"


@pytest.mark.parametrize("q", ["mu opioid", "mu-opioid", "μ-opioid", "Mu Opioid"])
def test_mu_opioid_lands_on_the_mu_opioid_receptor(client: TestClient, q: str) -> None:
    mu = [t["slug"] for t in _all(client, "/v1/targets") if t["name"].lower().startswith(("mu ", "mu-", "μ"))]
    assert len(mu) == 1
    assert _hits(client, q)[0] == ("targets", mu[0])


@pytest.mark.parametrize("q", ["fibro", "Fibro", "fibromy", "fibromyalgia", "FIBROMYALGIA"])
def test_prefixes_of_fibromyalgia_land_on_the_condition(client: TestClient, q: str) -> None:
    assert _hits(client, q)[0] == ("conditions", "fibromyalgia")


@pytest.mark.parametrize("q", ["crohns", "Crohn's", "crohn’s disease", "CROHNS", "crohn"])
def test_crohns_with_or_without_apostrophe_lands_on_crohns_disease(client: TestClient, q: str) -> None:
    crohns = [c.slug for c in DATASET.conditions if c.name.lower().startswith("crohn")]
    assert len(crohns) == 1
    assert _hits(client, q)[0] == ("conditions", crohns[0])


def test_every_name_and_its_prefix_finds_the_record_in_the_top_three(client: TestClient) -> None:
    for kind in ["drugs", "conditions", "regimens", "targets", "mechanisms", "sources"]:
        for record in getattr(DATASET, kind):
            name = getattr(record, "name", None) or record.title
            prefix = name[: max(4, len(name) - 3)]
            for q in (name, prefix, record.slug):
                assert (kind, record.slug) in _hits(client, q)[:3], (q, kind, record.slug)


@pytest.mark.parametrize("q", ["M79.7", "m79.7", "203082005"])
def test_the_briefs_codes_land_on_fibromyalgia(client: TestClient, q: str) -> None:
    expected = {c["slug"] for c in _all(client, "/v1/conditions", code=q)}
    assert expected == {"fibromyalgia"}, "the content lists this code for fibromyalgia"
    body = _search(client, q)
    assert body["data"][0]["slug"] == "fibromyalgia" and body["data"][0]["match"] == "code"
    assert "<mark>" in body["data"][0]["snippet"]


def test_every_condition_code_lands_on_its_condition(client: TestClient) -> None:
    codes = _condition_codes("icd-10-cm") + _condition_codes("snomed-ct")
    assert codes
    for slug, code, _kind in codes:
        owners = {s for s, c, _k in codes if c == code}
        data = _search(client, code)["data"]
        top = [(h["kind"], h["slug"]) for h in data if h["match"] == "code"]
        assert top == [("conditions", s) for s in sorted(owners)], code
        assert data[0]["slug"] == slug or data[0]["slug"] in owners


def test_a_child_code_under_a_listed_header_finds_the_condition_through_the_header(client: TestClient) -> None:
    crohns = _search(client, "K50.90")["data"][0]
    assert (crohns["kind"], crohns["slug"], crohns["match"]) == ("conditions", "crohns-disease", "code-header")
    # The same, for every ICD-10-CM header in the content, with a made-up child code under it; the list
    # API's own header lookup is the reference.
    headers = [(s, c) for s, c, k in _condition_codes("icd-10-cm") if k == "header"]
    assert headers
    for slug, header in headers:
        child = f"{header}9" if "." in header else f"{header}.99"
        via_list = {c["slug"] for c in _all(client, "/v1/conditions", code=child)}
        data = _search(client, child)["data"]
        coded = {h["slug"] for h in data if h["kind"] == "conditions" and h["match"].startswith("code")}
        assert slug in coded and coded == via_list, child
        assert data[0]["match"].startswith("code"), child


# ------------------------------------------------------------------------------- envelope and ranking


def test_envelope_hits_links_and_snippets(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "fibro"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("etag")
    body = response.json()
    SearchList.model_validate(body)  # every field documented, nothing extra
    meta = body["meta"]
    assert "not medical advice" in meta["disclaimer"]
    assert meta["query"] == "fibro" and meta["total"] >= len(body["data"]) > 0 and meta["limit"] == 10
    assert body["links"]["self"].endswith("/v1/search?q=fibro")
    for hit in body["data"]:
        assert hit["link"] == f"/v1/{hit['kind']}/{hit['slug']}"
        assert client.get(hit["link"]).status_code == 200
        # HTML-escaped: the only tags are our marks.
        assert re.sub(r"</?mark>", "", hit["snippet"]).count("<") == 0
    assert "<mark>fibromyalgia</mark>" in body["data"][0]["snippet"].lower()


def test_hits_come_best_match_first(client: TestClient) -> None:
    for q in ["LDN", "naltrexone", "opioid", "fibro", "K50.90", "pain", "receptor", "4.5 mg"]:
        data = _search(client, q)["data"]
        ranks = [MATCH_ORDER.index(h["match"]) for h in data]
        assert ranks == sorted(ranks), q


def test_common_words_are_ignored_and_every_other_word_must_match(client: TestClient) -> None:
    both = set(_hits(client, "naltrexone for fibromyalgia"))
    assert ("indications", "ldn-fibromyalgia") in both
    assert both == set(_hits(client, "naltrexone fibromyalgia"))
    assert both <= set(_hits(client, "fibromyalgia"))


def test_no_hit_is_an_empty_200(client: TestClient) -> None:
    body = _search(client, "qqzxqv")
    assert body["data"] == [] and body["meta"]["total"] == 0 and body["links"]["next"] is None


def test_limit_and_cursor_page_through_the_same_ranking(client: TestClient) -> None:
    whole = _search(client, "naltrexone", limit=50)
    assert whole["meta"]["total"] > 6
    pages: list[dict[str, Any]] = []
    response = client.get("/v1/search", params={"q": "naltrexone", "limit": 3})
    while True:
        body = response.json()
        assert len(body["data"]) <= 3
        pages.extend(body["data"])
        if not body["links"]["next"] or len(pages) >= 9:
            break
        assert response.headers["link"] == f'<{body["links"]["next"]}>; rel="next"'
        response = client.get(body["links"]["next"])
    assert pages == whole["data"][: len(pages)]


def test_kind_filter_keeps_the_ranking_of_that_kind(client: TestClient) -> None:
    everything = _search(client, "opioid")
    assert everything["meta"]["total"] <= 50, "one page holds every hit"
    sources = _search(client, "opioid", kind="sources")["data"]
    assert sources and all(h["kind"] == "sources" for h in sources)
    assert sources == [h for h in everything["data"] if h["kind"] == "sources"]
    two = _hits(client, "naltrexone", kind=["targets", "drugs"])
    assert {k for k, _ in two} <= {"targets", "drugs"} and two[0] == ("drugs", "naltrexone")


@pytest.mark.parametrize("q", ["AND OR NOT", 'fibro* OR "x" NEAR(a b) ^col: -y', "'; DROP TABLE x; --", "a:* & !b"])
def test_query_syntax_of_either_engine_is_plain_text(client: TestClient, q: str) -> None:
    response = client.get("/v1/search", params={"q": q})
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({}, 422, "q"),
        ({"q": ""}, 422, "q"),
        ({"q": "   "}, 422, "q"),
        ({"q": "?!*"}, 422, "q"),
        ({"q": "x" * 201}, 422, "q"),
        ({"q": " ".join(f"w{i}" for i in range(33))}, 422, "q"),
        ({"q": "ldn", "limit": "0"}, 422, "limit"),
        ({"q": "ldn", "limit": "51"}, 422, "limit"),
        ({"q": "ldn", "limit": "ten"}, 422, "limit"),
        ({"q": "ldn", "kind": "patients"}, 422, "kind"),
        ({"q": "ldn", "cursor": "not-a-cursor"}, 400, None),
        ({"q": "ldn", "sort": "slug"}, 400, "sort"),
    ],
)
def test_bad_input_is_a_problem(client: TestClient, params: dict[str, str], status: int, field: str | None) -> None:
    response = client.get("/v1/search", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["detail"] and problem["instance"] == "/v1/search"
    if field:
        assert field in {e["field"].split(".")[0] for e in problem["errors"]}


def test_a_cursor_of_another_query_is_rejected(client: TestClient) -> None:
    next_url = _search(client, "naltrexone", limit=1)["links"]["next"]
    cursor = next_url.split("cursor=")[1]
    response = client.get("/v1/search", params={"q": "opioid", "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/invalid-cursor"


# ------------------------------------------------------------------------- the index follows content


def test_index_follows_every_content_load(tmp_path: Path) -> None:
    """Rename a condition, add a synonym, then drop it: search follows each load (SQLite store)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.sqlite3'}", content_check_interval=0)
    app = create_app(settings)
    with TestClient(app) as client:
        assert _hits(client, "fibro")[0] == ("conditions", "fibromyalgia")
        fibro = next(c for c in DATASET.conditions if c.slug == "fibromyalgia")
        changed = fibro.model_copy(update={"synonyms": [*fibro.synonyms, "Quuxalgia"]})
        edited = DATASET.model_copy(
            update={"conditions": [changed if c.slug == "fibromyalgia" else c for c in DATASET.conditions]}
        )
        with Session(app.state.engine) as session:
            load_dataset(session, edited)
        assert _hits(client, "quuxalg")[0] == ("conditions", "fibromyalgia")
        without = edited.model_copy(
            update={
                "conditions": [c for c in edited.conditions if c.slug != "fibromyalgia"],
                "indications": [i for i in edited.indications if i.condition != "fibromyalgia"],
            }
        )
        with Session(app.state.engine) as session:
            load_dataset(session, without)
        assert _hits(client, "quuxalg") == []
        assert ("conditions", "fibromyalgia") not in _hits(client, "fibromyalgia")


def test_an_empty_index_of_a_loaded_store_is_filled_on_first_search(tmp_path: Path) -> None:
    """A store loaded before the index existed (simulated by emptying it) answers all the same."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.sqlite3'}", content_check_interval=0)
    app = create_app(settings)
    with TestClient(app) as client:
        before = _hits(client, "crohns")
        with app.state.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM search_document")
        assert _hits(client, "crohn's") == before


# ------------------------------------------------------------------------- normalisation (pure)


def test_normalisation_of_what_people_type() -> None:
    assert fold("Crohn’s") == fold("Crohn's") == "crohns"
    assert {"tlr", "4", "tlr4"} <= set(document_tokens("TLR-4")) and {"tlr", "4"} <= set(document_tokens("TLR4"))
    assert words("μ-opioid receptor") == ["mu", "opioid", "receptor"] and words("5 µg") == ["5", "ug"]
    assert "pediatric" in document_tokens("paediatric") and words("Paediatric") == ["pediatric"]
    assert {"m79", "7", "m797"} <= set(document_tokens("M79.7"))
    code = parse_query("K50.90").code
    assert code is not None and code.system == "icd-10-cm" and code.ancestors == ("K50.9", "K50")
    snomed = parse_query(" 203082005 ").code
    assert snomed is not None and snomed.system == "snomed-ct" and snomed.ancestors == ()
    assert parse_query("fibro").code is None


def test_abbreviations_come_from_the_records_own_names() -> None:
    assert abbreviation_pairs("Low-dose naltrexone (LDN)") == [("LDN", "Low-dose naltrexone")]
    assert abbreviation_pairs("naltrexone", ["ReVia", "Vivitrol"]) == []  # brand names are not abbreviations
    assert abbreviation_pairs("Opioid use disorder (opioid dependence)") == []


# ------------------------------------------------------------------------ the same on both stores


def _queries() -> list[str]:
    """The brief's forms plus, for every record, its name, slug, a four-letter prefix and its codes."""
    out = ["LDN", "low dose naltrexone", "TLR-4", "TLR4", "mu opioid", "fibro", "crohns", "M79.7", "K50.90"]
    out += ["203082005", "naltrexone", "opioid receptor", "4.5 mg", "pain", "a", "paediatric", "vivitrol"]
    out += ["4.5mg", "50mg/day", "380mg", "IM", "380 mg im", "po", "4.5 milligrams"]  # how doses are typed
    for kind in ["drugs", "conditions", "regimens", "targets", "mechanisms", "indications", "sources"]:
        for record in getattr(DATASET, kind):
            name = getattr(record, "name", None) or getattr(record, "title", None) or record.slug
            out += [name, record.slug, name[:4]]
    out += [code for _s, code, _k in _condition_codes("icd-10-cm") + _condition_codes("snomed-ct")]
    return list(dict.fromkeys(out))


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"cross-store comparison skipped: set {PG_ENV} to a PostgreSQL URL to enable it")
    folder = tmp_path_factory.mktemp("cross")
    pg_url, name = _fresh_postgres(base)
    try:
        sqlite_app = create_app(Settings(database_url=f"sqlite:///{folder / 'x.sqlite3'}", access_log=False))
        pg_app = create_app(Settings(database_url=pg_url, access_log=False))
        with TestClient(sqlite_app) as on_sqlite, TestClient(pg_app) as on_postgres:
            yield on_sqlite, on_postgres
    finally:
        _drop_postgres(base, name)
        shutil.rmtree(folder, ignore_errors=True)


def test_sqlite_and_postgresql_give_identical_results(both_stores: tuple[TestClient, TestClient]) -> None:
    on_sqlite, on_postgres = both_stores
    queries = _queries()
    assert len(queries) > 100
    compared = 0
    for q in queries:
        a = on_sqlite.get("/v1/search", params={"q": q, "limit": 50})
        b = on_postgres.get("/v1/search", params={"q": q, "limit": 50})
        assert a.status_code == b.status_code, q
        if a.status_code != 200:
            continue
        left, right = a.json(), b.json()
        assert left["meta"]["total"] == right["meta"]["total"], q
        assert [(h["kind"], h["slug"]) for h in left["data"]] == [(h["kind"], h["slug"]) for h in right["data"]], q
        assert left["data"] == right["data"], q  # titles, matches and snippets too
        compared += bool(left["data"])
    assert compared > 100


# ------------------------------------------------------------------------ typing people (issue 12 item 3)


@pytest.mark.parametrize("q", ["fibromyalga", "fibromyalgiaa", "fibormyalgia", "fibrmyalgia", "fibromyaglia"])
def test_one_typo_in_a_long_word_still_finds_it(client: TestClient, q: str) -> None:
    """Missing, added, changed letter or swapped neighbours: one edit on a word of five letters or more."""
    body = _search(client, q)
    assert (body["data"][0]["kind"], body["data"][0]["slug"]) == ("conditions", "fibromyalgia"), q
    assert body["data"][0]["match"] == "typo"
    assert "<mark>" in body["data"][0]["snippet"]


@pytest.mark.parametrize(
    ("typed", "spaced"),
    [
        ("4.5mg", "4.5 mg"),
        ("50mg", "50 mg"),
        ("380mg", "380 mg"),
        ("4.5mg daily", "4.5 mg daily"),
        ("50mg/day", "50 mg/day"),
        ("ldn 4.5MG", "ldn 4.5 MG"),
    ],
)
def test_a_dose_typed_without_a_space_finds_what_the_spaced_dose_finds(
    client: TestClient, typed: str, spaced: str
) -> None:
    """Clinicians write "4.5mg" as often as "4.5 mg": a number run into its unit is read as both words."""
    expected = _hits(client, spaced)
    assert expected, spaced  # the content states these doses: the spaced form finds them
    assert set(_hits(client, typed)) >= set(expected), typed


@pytest.mark.parametrize(
    ("typed", "spelled"),
    [
        ("IM", "intramuscular"),
        ("380 mg im", "380 mg intramuscular"),
        ("po", "oral"),
        ("50 mg PO", "50 mg oral"),
        ("4.5 milligrams", "4.5 mg"),
        ("50 milligram", "50 mg"),
    ],
)
def test_units_and_routes_as_the_dose_check_reads_them_find_what_their_usual_words_find(
    client: TestClient, typed: str, spelled: str
) -> None:
    """The abbreviations and spellings of units and routes the dose check accepts (IM, PO, milligrams) are
    what clinicians type into a search box too."""
    expected = _hits(client, spelled)
    assert expected, spelled
    assert set(_hits(client, typed)) >= set(expected), typed


@pytest.mark.parametrize("q", ["fibromyagl", "naltrexno", "celac dis"])
def test_a_typo_in_a_word_still_being_typed_is_forgiven(client: TestClient, q: str) -> None:
    expected = {"fibromyagl": "fibromyalgia", "naltrexno": "naltrexone", "celac dis": "celiac-disease"}[q]
    assert expected in [slug for _kind, slug in _hits(client, q)], q


def test_typo_hits_come_after_every_exact_hit(client: TestClient) -> None:
    for q in ["naltrexone", "receptor", "opioid", "depression"]:
        matches = [h["match"] for h in _search(client, q)["data"]]
        assert matches, q
        if "typo" in matches:
            first = matches.index("typo")
            assert set(matches[first:]) == {"typo"}, (q, matches)


def test_short_words_and_codes_are_not_corrected(client: TestClient) -> None:
    assert _hits(client, "pian") == []  # four letters: no typo allowed ("pain")
    for _slug, code, _kind in _condition_codes("snomed-ct"):
        wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
        assert all(h["match"] != "typo" for h in _search(client, wrong)["data"]), wrong


def test_every_name_with_one_letter_dropped_still_finds_its_record(client: TestClient) -> None:
    for kind in ["conditions", "targets", "regimens"]:
        for record in getattr(DATASET, kind):
            word = max(words(record.name), key=len)
            if len(word) < 6 or not word.isalpha():
                continue
            typo = word[:3] + word[4:]
            assert (kind, record.slug) in _hits(client, typo), (record.slug, typo)


def test_a_new_query_makes_no_database_query(app: Any, client: TestClient) -> None:
    from tests.conftest import QueryCounter

    client.get("/v1/search", params={"q": "warm"})
    with QueryCounter(app.state.engine) as counter:
        for q in ["fibro", "fibromyalga", "LDN", "M79.7", "opioid receptor", "naltrexone daily"]:
            assert client.get("/v1/search", params={"q": q, "limit": 3}).status_code == 200
    # Only the content-version check the test settings make on every request (interval 0), never a search.
    assert all("search" not in s.lower() for s in counter.statements), counter.statements


def test_two_apps_in_one_process_answer_from_their_own_content(tmp_path: Path) -> None:
    fibro = next(c for c in DATASET.conditions if c.slug == "fibromyalgia")
    edited = DATASET.model_copy(
        update={
            "conditions": [
                fibro.model_copy(update={"synonyms": [*fibro.synonyms, "Quuxalgia"]}) if c.slug == "fibromyalgia" else c
                for c in DATASET.conditions
            ]
        }
    )
    first = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}", content_check_interval=60))
    second = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'b.sqlite3'}", content_check_interval=0))
    with TestClient(first) as one, TestClient(second) as two:
        with Session(second.state.engine) as session:
            load_dataset(session, edited)
        assert _hits(two, "quuxalgia")[0] == ("conditions", "fibromyalgia")
        assert _hits(one, "quuxalgia") == []
        assert _hits(two, "quuxalgi")[0] == ("conditions", "fibromyalgia")


def test_the_search_shortcut_answers_as_the_documented_route(settings: Settings) -> None:
    """Plain searches skip FastAPI's parameter handling (app/api/v1/search.py): same answers, and anything
    unusual still gets the documented route's validation."""

    app = create_app(settings.model_copy(update={"response_cache_bytes": 0}))
    assert app.front_door is not None
    app.front_door.reads = None  # every request reaches routing (the front door's own answers: test_front_door)
    with TestClient(app) as client:
        _compare_shortcut(app, client)


def _compare_shortcut(app: Any, client: TestClient) -> None:
    from app.api.v1.search import SearchShortcut

    shortcut = next(r for r in app.router.routes if isinstance(r, SearchShortcut))
    # Queries no other test of the module asks: a cached answer would come from the front door instead.
    cases: list[dict[str, Any]] = [
        {"q": "fibromy"},
        {"q": "LDN", "limit": "4"},
        {"q": "painful", "kind": ["conditions", "indications"]},
    ]
    for params in cases:
        before = shortcut.answered
        quick = client.get("/v1/search", params=params)
        assert shortcut.answered == before + 1
        # The documented route, with the shortcut out of the router for this one request.
        routes = app.router.routes
        place = routes.index(shortcut)
        routes.pop(place)
        try:
            documented = client.get("/v1/search", params=params)
        finally:
            routes.insert(place, shortcut)
        assert shortcut.answered == before + 1
        assert quick.status_code == documented.status_code == 200
        assert quick.json()["data"] == documented.json()["data"]
        assert quick.json()["meta"] == documented.json()["meta"]
    for params, status in (
        ({"q": "fibro", "limit": "0"}, 422),
        ({"q": "fibro", "sort": "x"}, 400),
        ({"q": "!!"}, 422),
        ({"q": ["x", "fibro"]}, 400),  # a repeated q: which one was meant is not known
    ):
        response = client.get("/v1/search", params=params)
        assert response.status_code == status, params
        assert response.headers["content-type"] == "application/problem+json"


def test_the_quick_readings_of_a_query_string_agree_with_parse_qsl(monkeypatch: pytest.MonkeyPatch) -> None:
    """``q=...`` alone is read without parse_qsl, and a next link keeps plain parameters and its cursor as
    they stand: only where decoding and encoding would change nothing (checked against the full reading)."""
    import random
    from urllib.parse import parse_qsl, urlencode

    from app.api import responses
    from app.api.v1 import search as route

    def kept(raw: bytes) -> str:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        return urlencode([(k, v) for k, v in pairs if k != "cursor"])

    rnd = random.Random(7)
    samples = [b"q=fibro", b"q=fibro&limit=5", b"q=a+b", b"q=%41", b"q=x&cursor=abc", b"q=", b"q=a=b", b"q=~-_."]
    samples += [
        rnd.choice([b"", b"q="]) + bytes(rnd.choice(b"abAZ09_.~-=&%+*! ") for _ in range(rnd.randint(0, 10)))
        for _ in range(5000)
    ]
    quick = [route._plain_params(raw) for raw in samples]
    monkeypatch.setattr(route, "_ONLY_Q", re.compile(rb"(?!)"))  # never quick: the full reading
    assert quick == [route._plain_params(raw) for raw in samples]
    for raw in samples:
        responses._KEPT_MEMO.clear()
        assert responses._without_cursor(raw) == kept(raw), raw
        cursor = raw.decode("latin-1")
        if responses._URL_SAFE.fullmatch(cursor):  # a next link writes such a cursor as it stands
            assert urlencode([("cursor", cursor)]) == f"cursor={cursor}"
