"""Search across the knowledge base: the search documents (rebuilt at every content load), the in-memory
index built from them once per content version per app, and the ranked query.

Design (why it is built this way):

* One plain table, ``search_document``, one row per searchable record: drugs, conditions, regimens,
  targets, mechanisms, indications and sources. It is derived data: ``rebuild_search_index`` empties
  and refills it inside the content load's transaction, so it never disagrees with the records.
* All text processing happens in Python (app/domain/search_text.py), once per document at load.
* Queries never touch the database: :class:`SearchIndexes` (one per app, on ``app.state``) holds an
  in-memory :class:`~app.domain.search_index.SearchIndex` built from the documents of the current
  content version (:func:`build_searchable`: documents and dataset facts read in one transaction), and
  builds a new one, off the event loop, when the version moves. The index is a function of a list of
  :class:`~app.domain.search_index.Document`: whatever produces them (this table today, a read model
  tomorrow) can feed it. Both stores hold the same documents, so give the same hits in the same order.
* The abbreviations the index expands (LDN <-> low-dose naltrexone, MOR <-> mu opioid receptor,
  TLR4 <-> toll-like receptor 4, ...) are taken from the records themselves: ``Name (ABBR)`` names,
  short upper-case synonyms and gene symbols. Nothing is added that the content does not state.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

from app.domain.evidence import DEFINITIONS
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
    label_variants,
    parse_query,
)
from app.errors import ProblemError
from app.models import (
    Condition,
    ConditionCode,
    DoseRange,
    Drug,
    Indication,
    Mechanism,
    Regimen,
    SearchDocument,
    Source,
    Study,
    Target,
)
from app.services.dataset import DatasetInfo, dataset_info
from app.services.embeds import group_by

__all__ = ["KINDS", "SearchIndexes", "build_searchable", "rebuild_search_index", "search"]
MAX_OFFSET = 10_000

_LEVEL_TITLES = {d.level.value: d.title for d in DEFINITIONS}


@dataclass(slots=True)
class _Draft:
    kind: str
    slug: str
    title: str
    labels: list[str]
    codes: list[str]
    body: list[str]


def _lines(*values: str | None) -> list[str]:
    return [v.strip() for v in values if v and v.strip()]


def _identifiers(values: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"{str(i.get('system', '')).upper()} {i.get('value', '')}" for i in values)


def _drafts(session: Session) -> tuple[list[_Draft], list[Expansion]]:
    drafts: list[_Draft] = []
    pairs: list[tuple[str, str]] = []

    drugs = session.scalars(select(Drug).order_by(col(Drug.slug))).all()
    for d in drugs:
        pairs += abbreviation_pairs(d.name, d.synonyms)
        salts = ", ".join(str(s.get("name", "")) for s in d.salts)
        contraindications = [str(c.get("text", "")) for c in d.contraindications]
        drafts.append(
            _Draft(
                "drugs",
                d.slug,
                d.name,
                [*label_variants(d.name), *d.synonyms],
                [],
                _lines(d.clinical_summary, d.plain_summary, salts, *contraindications, _identifiers(d.identifiers)),
            )
        )

    codes = group_by(
        session.scalars(select(ConditionCode).order_by(col(ConditionCode.condition_id), col(ConditionCode.ordinal))),
        "condition_id",
    )
    conditions = {c.id: c for c in session.scalars(select(Condition).order_by(col(Condition.slug))).all()}
    for c in conditions.values():
        own = codes.get(c.id or 0, [])
        pairs += abbreviation_pairs(c.name, c.synonyms)
        code_lines = [f"{k.system.upper()} {k.code}{f' {k.display}' if k.display else ''}" for k in own]
        drafts.append(
            _Draft(
                "conditions",
                c.slug,
                c.name,
                [*label_variants(c.name), *c.synonyms],
                [k.code for k in own],
                _lines(c.clinical_summary, c.plain_summary, *code_lines),
            )
        )

    ranges = group_by(session.scalars(select(DoseRange).order_by(col(DoseRange.ordinal))), "regimen_id")
    regimens = {r.id: r for r in session.scalars(select(Regimen).order_by(col(Regimen.slug))).all()}
    for r in regimens.values():
        pairs += abbreviation_pairs(r.name)
        range_lines = [f"{x.label}{f': {x.quote}' if x.quote else ''}" for x in ranges.get(r.id or 0, [])]
        drafts.append(
            _Draft(
                "regimens",
                r.slug,
                r.name,
                label_variants(r.name),
                [],
                _lines(r.clinical_summary, r.plain_summary, r.form, r.frequency, r.timing, *range_lines),
            )
        )

    targets = {t.id: t for t in session.scalars(select(Target).order_by(col(Target.slug))).all()}
    for t in targets.values():
        symbols = [t.gene_symbol] if t.gene_symbol else []
        pairs += abbreviation_pairs(t.name, [*t.synonyms, *symbols])
        drafts.append(
            _Draft(
                "targets",
                t.slug,
                t.name,
                [*label_variants(t.name), *t.synonyms, *symbols],
                [],
                _lines(t.clinical_summary, t.plain_summary, _identifiers(t.identifiers)),
            )
        )

    for m in session.scalars(select(Mechanism).order_by(col(Mechanism.slug))).all():
        target = targets.get(m.target_id)
        regimen = regimens.get(m.regimen_id) if m.regimen_id is not None else None
        drafts.append(
            _Draft(
                "mechanisms",
                m.slug,
                m.name,
                label_variants(m.name),
                [],
                _lines(
                    m.clinical_summary,
                    m.plain_summary,
                    m.effect,
                    m.dose_dependence,
                    f"{m.action} at the {target.name}" if target else m.action,
                    regimen.name if regimen else None,
                ),
            )
        )

    studies = group_by(session.scalars(select(Study).order_by(col(Study.ordinal))), "indication_id")
    for i in session.scalars(select(Indication).order_by(col(Indication.slug))).all():
        condition, regimen = conditions.get(i.condition_id), regimens.get(i.regimen_id)
        title = f"{condition.name if condition else i.slug}: {regimen.name if regimen else ''}".rstrip(": ")
        condition_codes = " ".join(k.code for k in codes.get(i.condition_id, []))
        study_lines = [f"{s.design}: {s.result}" for s in studies.get(i.id or 0, [])]
        drafts.append(
            _Draft(
                "indications",
                i.slug,
                title,
                [title],
                [],
                _lines(
                    i.clinical_summary,
                    i.plain_summary,
                    *study_lines,
                    i.source_quote,
                    ", ".join(condition.synonyms) if condition else None,
                    condition_codes,
                    f"{i.status}; {_LEVEL_TITLES.get(i.evidence_level, i.evidence_level)}",
                ),
            )
        )

    for s in session.scalars(select(Source).order_by(col(Source.slug))).all():
        cited = " ".join(str(v) for v in (s.journal, s.year, s.citation) if v)
        drafts.append(
            _Draft(
                "sources",
                s.slug,
                s.title,
                label_variants(s.title),
                [],
                _lines(s.authors, cited, s.note, _identifiers(s.identifiers)),
            )
        )
    return drafts, expansions(pairs)


def rebuild_search_index(session: Session) -> int:
    """Empty and refill the search index from the records in the session (caller commits)."""
    drafts, table = _drafts(session)
    session.execute(delete(SearchDocument))
    for d in drafts:
        labels = list(dict.fromkeys([*d.labels, d.slug.replace("-", " ")]))
        everything = "\n".join([d.title, *labels, *d.codes, *d.body])
        terms = document_tokens(everything) + expansion_tokens(everything, table)
        session.add(
            SearchDocument(
                kind=d.kind,
                slug=d.slug,
                title=d.title,
                labels="\n".join(labels),
                codes=" ".join(d.codes),
                body="\n".join(d.body),
                terms=" ".join(terms),
            )
        )
    session.flush()
    return len(drafts)


# ------------------------------------------------------------------------------------------------ query


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str
    slug: str
    title: str
    link: str
    snippet: str
    match: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "slug": self.slug,
            "title": self.title,
            "link": self.link,
            "snippet": self.snippet,
            "match": self.match,
        }


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


def load_documents(session: Session) -> list[Document]:
    """The search documents of the store's current content (the ``search_document`` table, filled at every
    content load; filled here first for a loaded store upgraded from before the table existed)."""
    rows = session.scalars(select(SearchDocument)).all()
    if not rows and _rebuild_if_empty(session):
        rows = session.scalars(select(SearchDocument)).all()
    return [Document(r.kind, r.slug, r.title, r.labels, r.codes, r.body, r.terms) for r in rows]


def _rebuild_if_empty(session: Session) -> bool:
    """Fill an empty index of a loaded store (one upgraded from before the search index existed)."""
    if session.scalar(select(col(SearchDocument.id)).limit(1)) is not None:
        return False
    if dataset_info(session).content_version == 0:
        return False
    try:
        rebuild_search_index(session)
        session.commit()
    except DBAPIError:  # another process filled it at the same moment: use theirs
        session.rollback()
    return True


@dataclass(frozen=True, slots=True)
class Searchable:
    """An index with the dataset facts of the version it was built from."""

    index: SearchIndex
    info: DatasetInfo


def build_searchable(engine: Engine) -> Searchable:
    """Read the store's documents and dataset facts in one transaction and index them."""
    with Session(engine) as session:
        info = dataset_info(session)
        documents = load_documents(session)
    return Searchable(build_index(documents, info.content_version), info)


class SearchIndexes:
    """The search index of one app, for the content version current now: built once per version (in a
    worker thread, one build at a time), swapped in whole; never module-global, so two apps in one process
    answer from their own stores."""

    def __init__(self, build: Callable[[], Searchable], version: Callable[[], int]) -> None:
        self._build = build
        self._version = version
        self._current: Searchable | None = None
        self._lock = anyio.Lock()

    def ready(self) -> Searchable | None:
        """The index, if it was built for the current content version."""
        current = self._current
        if current is not None and current.info.content_version == self._version():
            return current
        return None

    async def get(self) -> Searchable:
        current = self.ready()
        if current is not None:
            return current
        async with self._lock:
            current = self.ready()
            if current is None:
                current = self._current = await anyio.to_thread.run_sync(self._build)
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
    ranked = found.hits
    page = ranked[offset : offset + limit]
    hits = [
        SearchHit(
            kind=hit.doc.kind,
            slug=hit.doc.slug,
            title=hit.doc.title,
            link=f"/v1/{hit.doc.kind}/{hit.doc.slug}",
            snippet=searchable.index.snippet(found, hit),
            match=hit.match,
        )
        for hit in page
    ]
    more = offset + limit < len(ranked) and offset + limit <= MAX_OFFSET
    return SearchResults(
        query=query.text,
        hits=hits,
        total=len(ranked),
        limit=limit,
        next_cursor=encode_cursor(key, offset + limit) if more else None,
    )
