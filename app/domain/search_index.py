"""The in-memory search index: built once from a list of search documents, then queried without I/O.

Why hand-written and not a library (tantivy-py, Whoosh-Reloaded and rapidfuzz were considered; all are on
PyPI): the ranking is the service's own (the record's code, then its names, then the text, ties by kind and
slug; see :func:`app.domain.search_text.score`) and is documented per tier in the API; tantivy's BM25 and
Whoosh's scorers rank by term statistics instead, and would need a second copy of our tokenisation (codes,
abbreviations, Greek letters) in their analysers. The corpus is small (about a hundred documents, a thousand
distinct tokens, growing linearly with the records), so a posting bitset per token, prefixes found by
bisecting the sorted vocabulary and a deletion-neighbourhood map for typos (the SymSpell idea, one edit)
answer a query in tens of microseconds with dictionary look-ups only.

* Documents are numbered; each token's posting list is an ``int`` used as a bitset, so AND/OR of terms are
  single integer operations.
* A prefix term's documents are the OR of the postings of the vocabulary's tokens in its bisect range
  (memoised per term, bounded).
* Typos: one edit (insertion, deletion, substitution or transposition of neighbours) on query words of
  ``TYPO_MIN`` letters or more, against every prefix of an indexed word (so a typo in a word still being
  typed is forgiven too). Each alphabetic prefix of ``TYPO_MIN - 1`` letters or more is indexed under
  itself and its one-letter deletions; a query word's corrections are the prefixes found under the word or
  its deletions, checked to be one edit away. Hits found only through a correction rank after every hit
  found without one and answer with ``match`` ``typo``.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from app.domain.search_text import (
    Group,
    ParsedQuery,
    Score,
    Sentence,
    Term,
    TokenSet,
    document_tokens,
    score_parts,
    sentences_of,
    snippet_of,
    squash,
    token_matches,
    with_alternatives,
)

K = TypeVar("K")
V = TypeVar("V")

TYPO_MIN = 5
#: Typo-only hits rank below every other hit.
TYPO_PENALTY = 1000
_MEMO_MAX = 8192


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable record, as the search-document builder makes it (one label a line; codes and terms
    space-separated): the same fields as the ``search_document`` table."""

    kind: str
    slug: str
    title: str
    labels: str
    codes: str
    body: str
    terms: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document with what scoring needs precomputed."""

    doc: Document
    terms: TokenSet
    label_keys: tuple[str, ...]
    labels: TokenSet
    codes: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    #: token -> (sentence position, word position) of every word indexed under it
    token_sentences: dict[str, tuple[tuple[int, int], ...]]
    #: Some word of the text has a token outside the vocabulary (none expected): snippets scan every sentence.
    full_scan: bool


@dataclass(frozen=True, slots=True)
class Ranked:
    prepared: Prepared
    match: str
    value: int

    @property
    def doc(self) -> Document:
        return self.prepared.doc


def one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one insertion, deletion, substitution or transposition."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class SearchIndex:
    """The index of one content version. Build it with :func:`build_index`; it is never mutated after,
    except for its bounded memos (safe under concurrent readers: a memo entry is computed from immutable
    data, and a lost race only computes it twice)."""

    version: int
    docs: tuple[Prepared, ...]
    vocabulary: tuple[str, ...]
    postings: tuple[int, ...]  # bitset of documents, by vocabulary position
    kinds: dict[str, int]  # bitset of documents, by kind
    typo_map: dict[str, tuple[str, ...]]
    vocabulary_set: frozenset[str]
    _prefix_memo: dict[tuple[str, bool], int] = field(default_factory=dict)
    _tokens_memo: dict[tuple[str, bool], tuple[str, ...]] = field(default_factory=dict)
    _typo_memo: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def _range(self, term: Term) -> tuple[int, int]:
        vocabulary = self.vocabulary
        lo = bisect_left(vocabulary, term.token)
        if not term.prefix:
            return (lo, lo + 1) if lo < len(vocabulary) and vocabulary[lo] == term.token else (lo, lo)
        return lo, bisect_right(vocabulary, term.token + "\uffff", lo)

    def term_docs(self, term: Term) -> int:
        key = (term.token, term.prefix)
        known = self._prefix_memo.get(key)
        if known is not None:
            return known
        lo, hi = self._range(term)
        bits = 0
        for position in range(lo, hi):
            bits |= self.postings[position]
        _remember(self._prefix_memo, key, bits)
        return bits

    def term_tokens(self, term: Term) -> tuple[str, ...]:
        """The vocabulary tokens a term matches (for hit counts)."""
        key = (term.token, term.prefix)
        known = self._tokens_memo.get(key)
        if known is None:
            lo, hi = self._range(term)
            known = self.vocabulary[lo:hi]
            _remember(self._tokens_memo, key, known)
        return known

    def group_docs(self, group: Group) -> int:
        bits = 0
        for alternative in group:
            found = -1
            for term in alternative:
                found &= self.term_docs(term)
                if not found:
                    break
            bits |= found if found != -1 else 0
        return bits

    def query_docs(self, query: ParsedQuery, kinds: Sequence[str] = ()) -> int:
        bits = -1
        for group in query.groups:
            bits &= self.group_docs(group)
            if not bits:
                return 0
        if bits == -1:
            return 0
        if kinds:
            allowed = 0
            for kind in kinds:
                allowed |= self.kinds.get(kind, 0)
            bits &= allowed
        return bits

    def corrections(self, token: str) -> tuple[str, ...]:
        """Indexed word prefixes one edit away from ``token`` (not ``token`` itself), for typo matching."""
        if len(token) < TYPO_MIN or not token.isalpha():
            return ()
        known = self._typo_memo.get(token)
        if known is not None:
            return known
        found: set[str] = set(self.typo_map.get(token, ()))
        for deleted in deletions(token):
            found.update(self.typo_map.get(deleted, ()))
        found.discard(token)
        out = tuple(sorted(c for c in found if one_edit(token, c)))
        _remember(self._typo_memo, token, out)
        return out

    def with_typos(self, query: ParsedQuery) -> ParsedQuery:
        """``query`` with, in each group, an alternative per correction of a one-word alternative."""
        groups: list[Group] = []
        changed = False
        for group in query.groups:
            extra: list[tuple[Term, ...]] = []
            for alternative in group:
                if len(alternative) == 1 and alternative[0].prefix:
                    extra += [(Term(c),) for c in self.corrections(alternative[0].token)]
            if extra:
                changed = True
                groups.append(tuple(dict.fromkeys([*group, *extra])))
            else:
                groups.append(group)
        return with_alternatives(query, tuple(groups)) if changed else query

    def search(self, query: ParsedQuery, kinds: Sequence[str] = ()) -> Found:
        """Every hit, best first, with the query as matched (its typo corrections too, for highlights)."""
        exact = self.query_docs(query, kinds)
        tolerant = self.with_typos(query)
        everything = self.query_docs(tolerant, kinds) if tolerant is not query else exact
        matched_exact = self.matched(query)
        matched_tolerant = self.matched(tolerant) if everything != exact else matched_exact
        ranked: list[tuple[int, int, str, Ranked]] = []
        docs = self.docs
        bits = everything
        while bits:
            low = bits & -bits
            position = low.bit_length() - 1
            bits ^= low
            prepared = docs[position]
            if exact >> position & 1:
                found = self.score(query, matched_exact, prepared)
            else:
                found = _typo(self.score(tolerant, matched_tolerant, prepared))
            doc = prepared.doc
            rank = KIND_RANK.get(doc.kind, len(KIND_RANK))
            ranked.append((-found.value, rank, doc.slug, Ranked(prepared, found.match, found.value)))
        ranked.sort(key=lambda item: item[:3])
        if everything != exact:
            return Found(tolerant, matched_tolerant, [item[3] for item in ranked])
        return Found(query, matched_exact, [item[3] for item in ranked])

    def score(self, query: ParsedQuery, matched: frozenset[str], prepared: Prepared) -> Score:
        return score_parts(
            query,
            label_keys=prepared.label_keys,
            label_tokens=prepared.labels,
            codes=prepared.codes,
            hits=lambda: _hit_count(matched, prepared),
        )

    def matched(self, query: ParsedQuery) -> frozenset[str]:
        """The vocabulary tokens any term of ``query`` matches."""
        out: set[str] = set()
        for term in query.terms:
            out.update(self.term_tokens(term))
        return frozenset(out)

    def snippet(self, found: Found, hit: Ranked) -> str:
        """The hit's snippet (:func:`app.domain.search_text.snippet`), from its prepared sentences."""
        query, matched = found.query, found.matched
        vocabulary = self.vocabulary_set
        wanted = query.terms

        def is_hit(token: str) -> bool:
            return token in matched if token in vocabulary else token_matches(token, wanted)

        prepared = hit.prepared
        if prepared.full_scan:
            return snippet_of(prepared.sentences, query, is_hit)
        where = prepared.token_sentences
        words: dict[int, set[int]] = {}
        tokens = matched if len(matched) < len(where) else [t for t in where if t in matched]
        for token in tokens:
            for sentence, word in where.get(token, ()):
                words.setdefault(sentence, set()).add(word)
        marks = {
            position: [prepared.sentences[position][1][w][:2] for w in sorted(found_words)]
            for position, found_words in words.items()
        }
        return snippet_of(prepared.sentences, query, is_hit, marks=marks)


@dataclass(frozen=True, slots=True)
class Found:
    """A search's hits, best first, and the query as matched: with its typo corrections when a hit needed
    one, and the vocabulary tokens its terms match (what the snippets mark)."""

    query: ParsedQuery
    matched: frozenset[str]
    hits: list[Ranked]


def _hit_count(matched: frozenset[str], prepared: Prepared) -> int:
    """How many of the document's tokens match a term of the query (each occurrence counted)."""
    counts = prepared.terms.count_map
    if len(matched) < len(counts):
        return sum(counts.get(t, 0) for t in matched)
    return sum(n for t, n in counts.items() if t in matched)


def _typo(found: Score) -> Score:
    return Score(found.value - TYPO_PENALTY, "typo")


def _remember(memo: dict[K, V], key: K, value: V) -> None:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value


# The order of kinds breaks ties between equally good hits: the drug, then what people look up most.
KINDS: tuple[str, ...] = ("drugs", "conditions", "regimens", "targets", "mechanisms", "indications", "sources")
KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}


def _token_sentences(sentences: Sequence[Sentence]) -> dict[str, tuple[tuple[int, int], ...]]:
    where: dict[str, list[tuple[int, int]]] = {}
    for position, (_text, words) in enumerate(sentences):
        for number, (_a, _b, tokens) in enumerate(words):
            for token in tokens:
                where.setdefault(token, []).append((position, number))
    return {token: tuple(dict.fromkeys(places)) for token, places in where.items()}


def build_index(documents: Iterable[Document], version: int = 0) -> SearchIndex:
    """The index of ``documents`` (in a stable order: kind, then slug), for content ``version``."""
    ordered = sorted(documents, key=lambda d: (KIND_RANK.get(d.kind, len(KINDS)), d.kind, d.slug))
    prepared: list[Prepared] = []
    by_token: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for position, doc in enumerate(ordered):
        bit = 1 << position
        terms = TokenSet.of(doc.terms.split())
        sentences = sentences_of(doc.body or doc.title)
        where = _token_sentences(sentences)
        lines = doc.labels.split("\n")
        prepared.append(
            Prepared(
                doc,
                terms,
                tuple(squash(line) for line in lines),
                TokenSet.of(document_tokens(doc.labels)),
                tuple(c.upper() for c in doc.codes.split()),
                sentences,
                where,
                False,
            )
        )
        for token in terms.unique:
            by_token[token] = by_token.get(token, 0) | bit
        kinds[doc.kind] = kinds.get(doc.kind, 0) | bit
    vocabulary = tuple(sorted(by_token))
    known = frozenset(vocabulary)
    prepared = [
        dataclasses.replace(p, full_scan=any(t not in known for t in p.token_sentences)) if p.token_sentences else p
        for p in prepared
    ]
    typo: dict[str, set[str]] = {}
    for token in vocabulary:
        if not token.isalpha() or len(token) < TYPO_MIN - 1:
            continue
        for end in range(TYPO_MIN - 1, len(token) + 1):
            prefix = token[:end]
            typo.setdefault(prefix, set()).add(prefix)
            if len(prefix) >= TYPO_MIN:
                for deleted in deletions(prefix):
                    typo.setdefault(deleted, set()).add(prefix)
    return SearchIndex(
        version=version,
        docs=tuple(prepared),
        vocabulary=vocabulary,
        postings=tuple(by_token[t] for t in vocabulary),
        kinds=kinds,
        typo_map={k: tuple(sorted(v)) for k, v in typo.items()},
        vocabulary_set=known,
    )
