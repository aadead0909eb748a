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
* Ranking (:meth:`SearchIndex.rank`) gives every hit the score :func:`app.domain.search_text.score` gives
  the document alone, tier by tier: a label key equal to the query, then one starting with it (label keys
  as bitsets by key, prefixes by bisecting the sorted keys), then every group in the labels (label tokens
  as bitsets, like the text's), and only the rest, the text tier, document by document (its score counts
  the document's hits, through per-token postings with counts); a code query is scored per document. A
  hit becomes an object only on the page asked for.
* Snippets are cut for the page's hits only, from each document's precomputed words (token -> places, and
  squashed word -> places for the sentence holding what was typed), and kept per (document, its matched
  tokens, that sentence): people retype the same word letter by letter.
* Every memo (per term, per label key, per typed word, per snippet) is bounded and emptied when full: the
  keys come from what clients send.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple, TypeVar

from app.domain.search_text import (
    HITS_MAX,
    LABEL_EXACT,
    LABEL_PREFIX,
    LABEL_WORDS,
    TEXT,
    Group,
    ParsedQuery,
    Score,
    Sentence,
    Term,
    TokenSet,
    document_tokens,
    render_snippet,
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
#: Snippets kept: each at most about a kilobyte (220 characters of text, its marks and escapes), so a few MB.
_SNIPPET_MEMO_MAX = 4096


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
    position: int  # in the index's documents
    terms: TokenSet
    label_keys: tuple[str, ...]
    labels: TokenSet
    codes: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    #: token -> (sentence position, word position) of every word indexed under it
    token_sentences: dict[str, tuple[tuple[int, int], ...]]
    #: Some word of the text has a token outside the vocabulary (none expected): snippets scan every sentence.
    full_scan: bool
    #: squashed word -> (sentence position, word position) of the words that are that key typed whole (a
    #: snippet prefers the first sentence where what was typed is a marked word), in text order
    key_places: dict[str, tuple[tuple[int, int], ...]]
    #: The snippet when no word of the text matches: the first sentence, unmarked.
    lead: str


class Ranked(NamedTuple):
    """A hit: its document, why it matched and its score (a tuple: a search makes one per hit)."""

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
    labels: LabelIndex
    #: token -> (document position, occurrences) of each document indexed under it
    counts: dict[str, tuple[tuple[int, int], ...]]
    _prefix_memo: dict[tuple[str, bool], int] = field(default_factory=dict)
    _tokens_memo: dict[tuple[str, bool], frozenset[str]] = field(default_factory=dict)
    _typo_memo: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: (document position, its matched tokens, the sentence chosen for the word typed) -> snippet
    _snippet_memo: dict[tuple[int, tuple[str, ...], int], str] = field(default_factory=dict)

    def _range(self, term: Term) -> tuple[int, int]:
        return _span(self.vocabulary, term)

    def term_docs(self, term: Term) -> int:
        return _span_docs(self._prefix_memo, term, self.vocabulary, self.postings, term)

    def term_tokens(self, term: Term) -> frozenset[str]:
        """The vocabulary tokens a term matches (for hit counts)."""
        known = self._tokens_memo.get(term)
        if known is None:
            lo, hi = self._range(term)
            known = frozenset(self.vocabulary[lo:hi])
            _remember(self._tokens_memo, term, known)
        return known

    def group_docs(self, group: Group) -> int:
        return _group_bits(group, self.term_docs)

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
        ranking = self.rank(query, matched_exact, exact)
        if everything == exact:
            return Found(query, matched_exact, ranking, self.docs)
        matched_tolerant = self.matched(tolerant)
        ranking += [
            (p, "typo", value - TYPO_PENALTY)
            for p, _, value in self.rank(tolerant, matched_tolerant, everything & ~exact)
        ]
        return Found(tolerant, matched_tolerant, ranking, self.docs)

    def rank(self, query: ParsedQuery, matched: frozenset[str], bits: int) -> list[Place]:
        """The documents of ``bits`` (all matching ``query``) scored as :func:`app.domain.search_text.score`
        scores them, best first; ties by kind, then slug (the documents' order). A tier is a set of documents
        with one score, found with a few bitset operations on the label index; only the text tier, whose score
        varies with the hits, is scored document by document."""
        docs = self.docs
        if query.code is not None:  # rare: codes are compared per document
            scored = [(self.score(query, matched, docs[p]), p) for p in _positions(bits)]
            scored.sort(key=lambda item: (-item[0].value, item[1]))
            return [(p, found.match, found.value) for found, p in scored]
        out: list[Place] = []
        rest = bits
        key = query.key
        labels = self.labels
        if key and rest:
            tier = labels.exact.get(key, 0) & rest
            if tier:
                out += [(p, "label", LABEL_EXACT) for p in _positions(tier)]
                rest &= ~tier
            tier = labels.prefix_docs(key) & rest if rest else 0
            if tier:
                out += [(p, "label-prefix", LABEL_PREFIX) for p in _positions(tier)]
                rest &= ~tier
        if not rest:
            return out
        in_labels = [labels.group_docs(group) for group in query.groups]
        tier = rest
        for group_bits in in_labels:
            tier &= group_bits
        if tier:
            out += [(p, "label-words", LABEL_WORDS) for p in _positions(tier)]
            rest &= ~tier
        if not rest:
            return out
        # The text tier: TEXT, plus the share of the query's groups found in the labels, plus the hits (at most
        # HITS_MAX); best first, ties in document order (a stable sort of positions in ascending order).
        scores = self.hit_counts(matched, rest)
        groups = len(in_labels)
        if groups > 1:
            for p in scores:
                scores[p] += (100 * sum(group_bits >> p & 1 for group_bits in in_labels)) // groups
        out += [(p, "text", TEXT + scores[p]) for p in sorted(scores, key=scores.__getitem__, reverse=True)]
        return out

    def hit_counts(self, matched: frozenset[str], bits: int) -> dict[int, int]:
        """How many tokens of each document of ``bits`` a matched token is (each occurrence counted, at most
        ``HITS_MAX``), by document position, in ascending order. Token by token through the postings with
        their counts, or document by document, whichever has less to look at."""
        counts = self.counts
        postings = [counts[t] for t in matched if t in counts]
        out = dict.fromkeys(_positions(bits), 0)
        if sum(map(len, postings)) <= 4 * len(out):
            for posting in postings:
                for p, n in posting:
                    if p in out:
                        out[p] += n
        else:
            docs = self.docs
            for p in out:
                out[p] = _hit_count(matched, docs[p])
        for p, n in out.items():
            if n > HITS_MAX:
                out[p] = HITS_MAX
        return out

    def score(self, query: ParsedQuery, matched: frozenset[str], prepared: Prepared) -> Score:
        """One document's score, computed on its own (:func:`app.domain.search_text.score_parts`)."""
        return score_parts(
            query,
            label_keys=prepared.label_keys,
            label_tokens=prepared.labels,
            codes=prepared.codes,
            hits=lambda: _hit_count(matched, prepared),
        )

    def matched(self, query: ParsedQuery) -> frozenset[str]:
        """The vocabulary tokens any term of ``query`` matches."""
        terms = query.terms
        if len(terms) == 1:  # one word typed, no correction: the term's own set
            (term,) = terms
            return self.term_tokens(term)
        out: set[str] = set()
        for term in terms:
            out.update(self.term_tokens(term))
        return frozenset(out)

    def snippet(self, found: Found, hit: Ranked) -> str:
        """The hit's snippet (:func:`app.domain.search_text.snippet`), from its prepared sentences: the words
        marked are those indexed under a matched token, found through the document's token -> words map."""
        query, matched = found.query, found.matched
        prepared = hit.prepared
        if prepared.full_scan:
            vocabulary = self.vocabulary_set
            wanted = query.terms

            def is_hit(token: str) -> bool:
                return token in matched if token in vocabulary else token_matches(token, wanted)

            return snippet_of(prepared.sentences, query, is_hit)
        where = prepared.token_sentences
        tokens = [t for t in matched if t in where] if len(matched) < len(where) else [t for t in where if t in matched]
        if not tokens:
            return prepared.lead
        if len(tokens) > 1:
            tokens.sort()
        own = tuple(tokens)
        sentences = prepared.sentences
        # The first sentence where what was typed is a marked word, else the first with a marked word.
        chosen = -1
        for s, w in prepared.key_places.get(query.key, ()):
            if any(t in matched for t in sentences[s][1][w][2]):
                chosen = s
                break
        # The snippet depends on nothing else: the same words typed on and on (a prefix growing, a typo of
        # it) cut it once.
        key = (prepared.position, own, chosen)
        known = self._snippet_memo.get(key)
        if known is not None:
            return known
        marked: set[tuple[int, int]] = set()
        for token in own:
            marked.update(where[token])
        if chosen < 0:
            chosen = min(marked)[0]
        sentence, words = sentences[chosen]
        known = render_snippet(sentence, [words[w][:2] for s, w in sorted(marked) if s == chosen])
        _remember(self._snippet_memo, key, known, _SNIPPET_MEMO_MAX)
        return known


#: A hit as a search ranks it: the document's position, why it matched, its score.
Place = tuple[int, str, int]


@dataclass(frozen=True, slots=True)
class Found:
    """A search's hits, best first, and the query as matched: with its typo corrections when a hit needed
    one, and the vocabulary tokens its terms match (what the snippets mark)."""

    query: ParsedQuery
    matched: frozenset[str]
    ranking: list[Place]
    docs: tuple[Prepared, ...]

    @property
    def total(self) -> int:
        return len(self.ranking)

    def page(self, offset: int, limit: int) -> list[Ranked]:
        """The hits from ``offset``, at most ``limit`` of them."""
        docs = self.docs
        return [Ranked(docs[p], match, value) for p, match, value in self.ranking[offset : offset + limit]]

    @property
    def hits(self) -> list[Ranked]:
        return self.page(0, len(self.ranking))


def _hit_count(matched: frozenset[str], prepared: Prepared) -> int:
    """How many of the document's tokens match a term of the query (each occurrence counted)."""
    counts = prepared.terms.count_map
    if len(matched) < len(counts):
        return sum(map(counts.get, matched, repeat(0)))
    return sum(n for t, n in counts.items() if t in matched)


def _remember(memo: dict[K, V], key: K, value: V, most: int = 0) -> None:
    """Keep ``value`` under ``key``, emptying ``memo`` first when it holds ``most`` entries (``_MEMO_MAX``)."""
    if len(memo) >= (most or _MEMO_MAX):
        memo.clear()
    memo[key] = value


def _positions(bits: int) -> list[int]:
    """The positions of the set bits of ``bits``, lowest first."""
    out: list[int] = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def _group_bits(group: Group, term_docs: Callable[[Term], int]) -> int:
    """The documents matching one of the group's alternatives (each of whose terms they match)."""
    bits = 0
    for alternative in group:
        found = -1
        for term in alternative:
            found &= term_docs(term)
            if not found:
                break
        bits |= found if found != -1 else 0
    return bits


def _span_docs(memo: dict[K, int], key: K, vocabulary: Sequence[str], postings: Sequence[int], term: Term) -> int:
    """The documents of every vocabulary entry ``term`` spans (its postings' union), remembered under ``key``."""
    known = memo.get(key)
    if known is None:
        lo, hi = _span(vocabulary, term)
        known = 0
        for position in range(lo, hi):
            known |= postings[position]
        _remember(memo, key, known)
    return known


def _span(vocabulary: Sequence[str], term: Term) -> tuple[int, int]:
    """The positions in the sorted ``vocabulary`` of the tokens ``term`` matches (itself, or every token it
    starts when a prefix)."""
    lo = bisect_left(vocabulary, term.token)
    if not term.prefix:
        return (lo, lo + 1) if lo < len(vocabulary) and vocabulary[lo] == term.token else (lo, lo)
    return lo, bisect_right(vocabulary, term.token + "\uffff", lo)


@dataclass
class LabelIndex:
    """The documents' labels (names, synonyms, abbreviations, slug) as bitsets, so a query's label tiers
    are found for every document at once: by label key (:func:`app.domain.search_text.squash` of a label,
    exact and as a prefix) and by label token (a query group found in the labels)."""

    exact: dict[str, int]  # label key -> documents
    keys: tuple[str, ...]  # sorted label keys
    key_postings: tuple[int, ...]  # documents, by position in ``keys``
    vocabulary: tuple[str, ...]  # sorted label tokens
    postings: tuple[int, ...]  # documents, by position in ``vocabulary``
    _prefix_memo: dict[str, int] = field(default_factory=dict)
    _term_memo: dict[tuple[str, bool], int] = field(default_factory=dict)

    def prefix_docs(self, key: str) -> int:
        """The documents with a label key starting with ``key``."""
        return _span_docs(self._prefix_memo, key, self.keys, self.key_postings, Term(key))

    def term_docs(self, term: Term) -> int:
        """The documents with a label token ``term`` matches (as :meth:`TokenSet.has` tests it)."""
        return _span_docs(self._term_memo, term, self.vocabulary, self.postings, term)

    def group_docs(self, group: Group) -> int:
        return _group_bits(group, self.term_docs)

    @classmethod
    def of(cls, docs: Sequence[Prepared]) -> LabelIndex:
        by_key: dict[str, int] = {}
        by_token: dict[str, int] = {}
        for position, prepared in enumerate(docs):
            bit = 1 << position
            for key in prepared.label_keys:
                by_key[key] = by_key.get(key, 0) | bit
            for token in prepared.labels.unique:
                by_token[token] = by_token.get(token, 0) | bit
        keys = tuple(sorted(by_key))
        vocabulary = tuple(sorted(by_token))
        return cls(
            exact=by_key,
            keys=keys,
            key_postings=tuple(by_key[k] for k in keys),
            vocabulary=vocabulary,
            postings=tuple(by_token[t] for t in vocabulary),
        )


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


def _key_places(sentences: Sequence[Sentence]) -> dict[str, tuple[tuple[int, int], ...]]:
    """Each word's key (:func:`squash`), where the word is at least as long as its key (what the snippet's
    "the very thing typed" test compares), to its places in text order."""
    places: dict[str, list[tuple[int, int]]] = {}
    for position, (text, words) in enumerate(sentences):
        for number, (a, b, _tokens) in enumerate(words):
            key = squash(text[a:b])
            if key and b - a >= len(key):
                places.setdefault(key, []).append((position, number))
    return {key: tuple(found) for key, found in places.items()}


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
                position,
                terms,
                tuple(squash(line) for line in lines),
                TokenSet.of(document_tokens(doc.labels)),
                tuple(c.upper() for c in doc.codes.split()),
                sentences,
                where,
                False,
                _key_places(sentences),
                render_snippet(sentences[0][0], ()) if sentences else "",
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
        labels=LabelIndex.of(prepared),
        vocabulary=vocabulary,
        postings=tuple(by_token[t] for t in vocabulary),
        kinds=kinds,
        typo_map={k: tuple(sorted(v)) for k, v in typo.items()},
        vocabulary_set=known,
        counts=_counts(prepared),
    )


def _counts(docs: Sequence[Prepared]) -> dict[str, tuple[tuple[int, int], ...]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for position, prepared in enumerate(docs):
        for token, n in prepared.terms.counts:
            out.setdefault(token, []).append((position, n))
    return {token: tuple(places) for token, places in out.items()}
