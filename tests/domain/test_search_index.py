"""The in-memory search index answers as the per-document reference does.

:func:`app.domain.search_text.score` and :func:`app.domain.search_text.snippet` score and cut one stored
document at a time (what the ``search_document`` table holds); the index finds the same tiers for every
document at once with bitsets and precomputed label and token tables. Over the curated content's documents
and the query mix people type (prefixes of every word, with and without a typo, codes, compounds), both give
the same hits in the same order, with the same ``match``, score and snippet.
"""

from __future__ import annotations

import random

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.domain import search_index
from app.domain.search_index import KIND_RANK, TYPO_PENALTY, Document, SearchIndex, build_index
from app.domain.search_text import parse_query, score, snippet
from app.models import SearchDocument


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: the documents are the same on both stores (tests/api/test_search.py compares them)."""
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'ldn-kb.sqlite3'}"


@pytest.fixture(scope="module")
def stored(app: FastAPI, client: TestClient) -> list[Document]:
    """The curated content's search documents, as the content load stored them."""
    with Session(app.state.engine) as session:
        rows = session.exec(select(SearchDocument)).all()
    docs = [Document(r.kind, r.slug, r.title, r.labels, r.codes, r.body, r.terms) for r in rows]
    assert len(docs) > 50
    return docs


def _words(docs: list[Document]) -> list[str]:
    return sorted({w for d in docs for w in d.terms.split() if w.isalpha() and len(w) >= 4})


def _queries(docs: list[Document]) -> list[str]:
    """The forms of the API's docs, and a sample of the bench's mix: prefixes (3 letters or more) of the
    content's words, half of those of 5 letters or more with one letter changed."""
    rnd = random.Random(12)
    out = ["LDN", "low dose naltrexone", "TLR-4", "tlr 4", "μ-opioid", "M79.7", "K50.90", "203082005"]
    out += ["crohns", "fibromyalga", "celac dis", "4.5 mg", "the", "opioid receptor", "naltrexone daily"]
    mix: list[str] = []
    for word in _words(docs):
        for end in range(3, len(word) + 1):
            prefix = word[:end]
            mix.append(prefix)
            if end >= 5:
                i = rnd.randrange(end)
                mix.append(prefix[:i] + rnd.choice("abcdefghijklmnopqrstuvwxyz") + prefix[i + 1 :])
    return list(dict.fromkeys(out + rnd.sample(mix, min(len(mix), 2000))))


def _reference(index: SearchIndex, docs: list[Document], q: str) -> list[tuple[str, str, str, int]]:
    """Each document scored on its own, typo hits after the others; ties by kind, then slug."""
    query = parse_query(q)
    tolerant = index.with_typos(query)
    out: list[tuple[int, int, str, str, str]] = []
    for d in docs:
        found = score(query, labels=d.labels, codes=d.codes, terms=d.terms)
        if found is None and tolerant is not query:
            typo = score(tolerant, labels=d.labels, codes=d.codes, terms=d.terms)
            if typo is not None:
                found = type(typo)(typo.value - TYPO_PENALTY, "typo")
        if found is not None:
            out.append((-found.value, KIND_RANK[d.kind], d.slug, d.kind, found.match))
    out.sort()
    return [(kind, slug, match, -value) for value, _rank, slug, kind, match in out]


def test_the_index_ranks_and_cuts_snippets_as_each_document_alone_would(stored: list[Document]) -> None:
    index = build_index(stored)
    queries = _queries(stored)
    assert len(queries) > 1500
    typos = 0
    for q in queries:
        found = index.search(parse_query(q))
        got = [(h.doc.kind, h.doc.slug, h.match, h.value) for h in found.hits]
        assert got == _reference(index, stored, q), q
        assert found.total == len(got)
        typos += any(h.match == "typo" for h in found.hits)
        for hit in found.page(0, 10):
            assert index.snippet(found, hit) == snippet(hit.doc.body or hit.doc.title, found.query), (q, hit.doc.slug)
    assert typos > 100  # the mix exercised the typo tier too


def test_a_page_is_a_slice_of_the_ranking(stored: list[Document]) -> None:
    index = build_index(stored)
    found = index.search(parse_query("naltrexone"))
    assert found.total > 20
    assert found.page(10, 5) == found.hits[10:15]
    assert found.page(found.total, 10) == []


def test_the_memos_stay_bounded_under_ever_new_queries(stored: list[Document], monkeypatch: pytest.MonkeyPatch) -> None:
    """Queries are what clients send: each memo of the index holds at most ``_MEMO_MAX`` entries."""
    monkeypatch.setattr(search_index, "_MEMO_MAX", 64)
    monkeypatch.setattr(search_index, "_SNIPPET_MEMO_MAX", 64)
    index = build_index(stored)
    rnd = random.Random(3)
    words = _words(stored)
    for _ in range(3000):
        word = rnd.choice(words)
        q = word[: rnd.randint(3, len(word))] + rnd.choice("abcdefghijklmnopqrstuvwxyz") * rnd.randint(0, 3)
        found = index.search(parse_query(q))
        for hit in found.page(0, 10):
            index.snippet(found, hit)
    sizes = [len(index._prefix_memo), len(index._tokens_memo), len(index._typo_memo)]
    sizes += [len(index.labels._prefix_memo), len(index.labels._term_memo), len(index._snippet_memo)]
    assert all(0 < size <= 64 for size in sizes), sizes
