"""Search across the knowledge base: the search documents, the in-memory index built from the app's read
model once per model, and the ranked query.

Design (why it is built this way):

* One search document per searchable record: drugs, conditions, regimens, targets, mechanisms, indications
  and sources. Each kind says what of its record is searchable (``search_source`` in app/kinds/, over the
  record as /v1 serves it); :func:`document` turns that into the indexed
  :class:`~app.domain.search_index.Document` (labels, codes, body and the terms, abbreviations expanded).
  The read model carries one :class:`~app.kinds.base.SearchSource` per record, so the index is built from
  the model with no query.
* The ``search_document`` table holds the same documents, made by the same :func:`document` at every
  content load (:func:`rebuild_search_index`, inside the load's transaction) for what reads the store file
  itself; the index does not read it.
* All text processing happens in Python (app/domain/search_text.py), once per document per model.
* Queries never touch the database: :class:`SearchIndexes` (one per app, on ``app.state``) holds the
  in-memory :class:`~app.domain.search_index.SearchIndex` of the read model a request answers from, and
  builds a new one, off the event loop, when the model moves. So search answers while the store is away,
  and both stores give the same hits in the same order.
* The abbreviations the index expands (LDN <-> low-dose naltrexone, MOR <-> mu opioid receptor,
  TLR4 <-> toll-like receptor 4, ...) are taken from the records themselves: ``Name (ABBR)`` names,
  short upper-case synonyms and gene symbols. Nothing is added that the content does not state.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import anyio
import orjson
from sqlalchemy import delete
from sqlmodel import Session

from app.domain.search_index import KINDS, Document, SearchIndex, build_index
from app.domain.search_text import (
    Expansion,
    ParsedQuery,
    QueryError,
    abbreviation_pairs,
    document_tokens,
    expansion_tokens,
    expansions,
    fold,
    parse_query,
)
from app.errors import ProblemError
from app.kinds import KINDS as ALL_KINDS
from app.kinds import search_sources
from app.kinds.base import SearchSource
from app.models import (
    SearchDocument,
)
from app.readmodel.model import ModelKey, ReadModel
from app.services.dataset import DatasetInfo

__all__ = ["KINDS", "SearchIndexes", "documents", "rebuild_search_index", "search", "searchable"]
MAX_OFFSET = 10_000


def document(
    kind: str,
    slug: str,
    title: str,
    labels: Sequence[str],
    codes: Sequence[str],
    body: Sequence[str],
    table: Iterable[Expansion],
) -> Document:
    """The indexed document of one record: its labels (the slug's words added), codes and body as text,
    and every term it is found by (abbreviations of ``table`` expanded both ways)."""
    unique_labels = list(dict.fromkeys([*labels, slug.replace("-", " ")]))
    everything = "\n".join([title, *unique_labels, *codes, *body])
    terms = document_tokens(everything) + expansion_tokens(everything, table)
    return Document(kind, slug, title, "\n".join(unique_labels), " ".join(codes), "\n".join(body), " ".join(terms))


def documents(sources: Sequence[SearchSource]) -> list[Document]:
    """The documents of a read model's search sources (one per record), with the abbreviations they state."""
    pairs = [pair for s in sources for name, synonyms in s.abbreviations for pair in abbreviation_pairs(name, synonyms)]
    table = expansions(pairs)
    return [document(s.kind, s.slug, s.title, s.labels, s.codes, s.body, table) for s in sources]


def rebuild_search_index(session: Session) -> int:
    """Empty and refill the ``search_document`` table from the records in the session (caller commits): each
    kind's records represented and made into search sources by its own declaration, as the read model does."""
    records = {kind.name: sorted(kind.represent(session), key=lambda r: str(r["slug"])) for kind in ALL_KINDS}
    docs = documents(search_sources(records))
    session.execute(delete(SearchDocument))
    for doc in docs:
        session.add(
            SearchDocument(
                kind=doc.kind,
                slug=doc.slug,
                title=doc.title,
                labels=doc.labels,
                codes=doc.codes,
                body=doc.body,
                terms=doc.terms,
            )
        )
    session.flush()
    return len(docs)


# ------------------------------------------------------------------------------------------------ query


class SearchHit(TypedDict):
    """One hit as the API writes it (a dict in this key order: what is encoded, with nothing to convert)."""

    kind: str
    slug: str
    title: str
    link: str
    snippet: str
    match: str


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    total: int
    limit: int
    next_cursor: str | None


def _cursor_key(query: ParsedQuery, kinds: Sequence[str]) -> str:
    return fold(query.text) + "|" + ",".join(sorted(kinds))


def encode_cursor(key: str, offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([key, offset])).decode().rstrip("=")


def decode_cursor(cursor: str, key: str) -> int:
    try:
        key_in, offset = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ProblemError("invalid-cursor", "The cursor is not one this service issued.") from None
    if key_in != key or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ProblemError("invalid-cursor", "The cursor belongs to another query; start again without it.")
    return offset


@dataclass(frozen=True, slots=True)
class Searchable:
    """An index with the dataset facts of the read model it was built from."""

    index: SearchIndex
    info: DatasetInfo
    key: ModelKey
    meta: Mapping[str, Any]  # the dataset ``meta`` of every answer (the model's, made once)


def searchable(model: ReadModel) -> Searchable:
    """The index of a read model's records (no query)."""
    index = build_index(documents(model.search_sources), model.content_version)
    return Searchable(index, model.info, model.key, model.meta)


class SearchIndexes:
    """The search index of one app, for the read model a request answers from: built once per model (in a
    worker thread, one build at a time), swapped in whole; never module-global, so two apps in one process
    answer from their own stores."""

    def __init__(self) -> None:
        self._current: Searchable | None = None
        self._lock = anyio.Lock()

    def ready(self, model: ReadModel) -> Searchable | None:
        """The index, if it was built from ``model``."""
        current = self._current
        if current is not None and current.key == model.key:
            return current
        return None

    async def get(self, model: ReadModel) -> Searchable:
        current = self.ready(model)
        if current is not None:
            return current
        async with self._lock:
            current = self.ready(model)
            if current is None:
                current = self._current = await anyio.to_thread.run_sync(searchable, model)
        return current


def search(
    searchable: Searchable, *, q: str, limit: int, cursor: str | None = None, kinds: Sequence[str] = ()
) -> SearchResults:
    """Ranked hits for ``q``; raises ProblemError (422) when ``q`` has nothing searchable."""
    try:
        query = parse_query(q)
    except QueryError as exc:
        raise ProblemError(
            "validation-error", str(exc), errors=[{"field": "q", "in": "query", "message": str(exc)}]
        ) from None
    key = _cursor_key(query, kinds)
    offset = decode_cursor(cursor, key) if cursor else 0
    found = searchable.index.search(query, kinds)
    total = found.total
    snippet = searchable.index.snippet
    hits: list[SearchHit] = []
    for hit in found.page(offset, limit):
        doc = hit.prepared.doc
        hits.append(
            {
                "kind": doc.kind,
                "slug": doc.slug,
                "title": doc.title,
                "link": f"/v1/{doc.kind}/{doc.slug}",
                "snippet": snippet(found, hit),
                "match": hit.match,
            }
        )
    more = offset + limit < total and offset + limit <= MAX_OFFSET
    return SearchResults(
        query=query.text,
        hits=hits,
        total=total,
        limit=limit,
        next_cursor=encode_cursor(key, offset + limit) if more else None,
    )
