"""Search text: normalisation, query parsing, matching, scoring and snippets. Pure: no I/O.

Why the work is done here and not in the database: SQLite FTS5 and PostgreSQL full-text search
tokenise, stem and rank differently. To give the same answer on both stores, every token is produced
here, once, and stored as a space-separated list (``terms``); the engines only index those tokens
as they are and select candidates with the boolean query built by :func:`engine_query`. The final
membership check (:func:`matches`) and the ordering (:func:`score`) are computed here from the
stored row, so both stores return the same hits in the same order.

Normalisation (documents and queries alike):

* lower case, accents stripped (NFKD), Greek receptor letters spelled out (``μ-opioid`` ->
  ``mu-opioid``; ``µg`` -> ``ug``);
* apostrophes inside words dropped (``Crohn's`` -> ``crohns``);
* a compound joined by ``-``, ``.``, ``/`` or ``_`` gives its parts and, when it contains a letter,
  the parts joined (``TLR-4`` -> ``tlr``, ``4``, ``tlr4``; ``M79.7`` -> ``m79``, ``7``, ``m797``);
* documents also index the letter and digit runs of a mixed token (``tlr4`` -> ``tlr``, ``4``),
  so that ``tlr 4`` finds ``TLR4``; a query also reads a number run into a word as the two
  (``4.5mg`` -> ``4.5mg`` or ``4 5 mg``), so that ``50mg`` finds ``50 mg``;
* a query word that the dose check reads as a unit or a route also looks for the word it stands for
  (``IM`` -> ``intramuscular``, ``PO`` -> ``oral``, ``milligrams`` -> ``mg``);
* a few British spellings are indexed with their American form as well (``paediatric`` also as
  ``pediatric``), and queries use the American form.

A query is a list of *groups* (one per word or compound typed, English stop words dropped); a
document matches when every group matches. A group matches when one of its *alternatives* does
(``tlr-4`` -> ``tlr4*`` or ``tlr* 4*``), and an alternative when each of its terms does. Terms are
prefixes (``fibro`` finds ``fibromyalgia``), except the ICD-10-CM header codes added for a code
query, which must match exactly (``K50.90`` also looks for ``K50.9`` and ``K50``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from app.domain.dosing.numbers import dose_words

MAX_QUERY_LENGTH = 200
MAX_GROUPS = 32

_MICRO_UNIT = re.compile(r"[µμ](?=(?:g|mol|l|m)\b)")
_GREEK = {"μ": "mu", "µ": "mu", "δ": "delta", "κ": "kappa", "ζ": "zeta", "σ": "sigma"}
_DASHES = str.maketrans({"‐": "-", "‑": "-", "‒": "-", "–": "-"})
_APOSTROPHE = re.compile(r"(?<=[a-z0-9])['’ʼ`´](?=[a-z0-9])")
_COMPOUND = re.compile(r"[a-z0-9]+(?:[-./_][a-z0-9]+)*")
_SEPARATORS = re.compile(r"[-./_]")
_RUNS = re.compile(r"[a-z]+|[0-9]+")
_NUMBER_THEN_LETTER = re.compile(r"(?<=[0-9])(?=[a-z])")
_WORD = re.compile(r"[a-z0-9]+")
_HAS_LETTER = re.compile(r"[a-z]")
_HAS_DIGIT = re.compile(r"[0-9]")
_TRAILING_PAREN = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")
_ABBREVIATION = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,9}$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])|\n+")
_ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
_SNOMED = re.compile(r"^[0-9]{6,18}$")

STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its"}
    | {"of", "on", "or", "that", "the", "to", "was", "with"}
)

# British spellings found in medical writing -> the American form. Spelling only, no medical content.
SPELLING = {
    "paediatric": "pediatric",
    "paediatrics": "pediatrics",
    "anaemia": "anemia",
    "behaviour": "behavior",
    "behavioural": "behavioral",
    "coeliac": "celiac",
    "diarrhoea": "diarrhea",
    "haemoglobin": "hemoglobin",
    "oedema": "edema",
    "oesophageal": "esophageal",
    "oestrogen": "estrogen",
    "randomised": "randomized",
    "tumour": "tumor",
    "tumours": "tumors",
    "leukaemia": "leukemia",
    "anaesthesia": "anesthesia",
    "labelled": "labeled",
    "ageing": "aging",
}


#: Units and routes as the dose check reads them (``IM`` -> ``intramuscular``, ``milligrams`` -> ``mg``): a query
#: word among them also looks for the word it stands for.
DOSE_WORDS = dose_words()


class QueryError(ValueError):
    """The query cannot be searched (empty, too long, nothing searchable in it)."""


def fold(text: str) -> str:
    """Lower case, accents stripped, Greek letters spelled out, apostrophes inside words dropped."""
    if text.isascii():  # what people type, mostly: no unit, Greek letter, dash or accent to replace
        text = text.lower()
        return _APOSTROPHE.sub("", text) if "'" in text or "`" in text else text
    text = _MICRO_UNIT.sub("u", text)
    for letter, name in _GREEK.items():
        text = text.replace(letter, name)
    text = unicodedata.normalize("NFKD", text.translate(_DASHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _APOSTROPHE.sub("", text)


def _parts(compound: str) -> list[str]:
    return [p for p in _SEPARATORS.split(compound) if p]


def document_tokens(text: str) -> list[str]:
    """Every token a document is indexed under, in text order (duplicates kept: they count hits)."""
    out: list[str] = []

    def add(token: str) -> None:
        out.append(token)
        american = SPELLING.get(token)
        if american:
            out.append(american)

    for match in _COMPOUND.finditer(fold(text)):
        parts = _parts(match.group())
        for part in parts:
            add(part)
            runs = _RUNS.findall(part)
            if len(runs) > 1:
                out.extend(runs)
        if len(parts) > 1 and _HAS_LETTER.search(match.group()):
            add("".join(parts))
    return out


def words(text: str) -> list[str]:
    """Plain words of a text (separators become spaces), American spelling."""
    return [SPELLING.get(w, w) for w in _WORD.findall(fold(text))]


def squash(text: str) -> str:
    """A label's comparison key: its words run together (``TLR-4`` and ``tlr 4`` -> ``tlr4``)."""
    return "".join(words(text))


def label_variants(name: str) -> list[str]:
    """A name and, for ``Name (ABBR)``, both halves: ``Low-dose naltrexone (LDN)`` -> the name, ``LDN``."""
    out = [name]
    match = _TRAILING_PAREN.match(name)
    if match and match.group(1).strip():
        out += [match.group(1).strip(), match.group(2).strip()]
    return out


def is_abbreviation(text: str) -> bool:
    """``LDN``, ``OGFr``, ``TLR-4``: short, at least two capitals, more capitals than small letters
    (so a brand name such as ``ReVia`` is not taken for an abbreviation)."""
    upper = sum(ch.isupper() for ch in text)
    return bool(_ABBREVIATION.match(text)) and upper >= 2 and upper > sum(ch.islower() for ch in text)


def abbreviation_pairs(name: str, synonyms: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(abbreviation, expansion) pairs a record states itself: ``Name (ABBR)`` and short synonyms."""
    variants = label_variants(name)
    full = variants[1] if len(variants) == 3 and is_abbreviation(variants[2]) else name
    pairs: list[tuple[str, str]] = []
    for candidate in [*variants[2:], *synonyms]:
        if is_abbreviation(candidate) and not is_abbreviation(full):
            pairs.append((candidate, full))
    return pairs


@dataclass(frozen=True, slots=True)
class Expansion:
    """An abbreviation and its expansion as words: a document with either is indexed under both."""

    short: tuple[str, ...]
    long: tuple[str, ...]


def expansions(pairs: Iterable[tuple[str, str]]) -> list[Expansion]:
    seen: set[Expansion] = set()
    out: list[Expansion] = []
    for short, long in pairs:
        e = Expansion(tuple(words(short)), tuple(words(long)))
        if e.short and e.long and e.short != e.long and e not in seen:
            seen.add(e)
            out.append(e)
    return sorted(out, key=lambda e: (e.short, e.long))


def expansion_tokens(text: str, table: Iterable[Expansion]) -> list[str]:
    """The extra tokens a text is indexed under: the other side of every abbreviation it uses."""
    padded = " " + " ".join(words(text)) + " "

    def has(phrase: tuple[str, ...]) -> bool:
        return " " + " ".join(phrase) + " " in padded

    extra: list[str] = []
    for e in table:
        if has(e.short) and not has(e.long):
            extra.extend(e.long)
        elif has(e.long) and not has(e.short):
            extra.append("".join(e.short))
    return extra


# ---------------------------------------------------------------------------------------------- query


class Term(NamedTuple):
    """A token of a query, matched as a prefix or (ICD-10-CM headers of a code) exactly. A tuple: queries
    make several and hash them (memo keys, de-duplication)."""

    token: str
    prefix: bool = True


Alternative = tuple[Term, ...]
Group = tuple[Alternative, ...]


@dataclass(frozen=True, slots=True)
class CodeQuery:
    system: str  # icd-10-cm | snomed-ct
    code: str  # as typed, upper case
    ancestors: tuple[str, ...]  # ICD-10-CM header categories above it, nearest first


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str  # the query as typed, trimmed
    key: str  # squash(text)
    groups: tuple[Group, ...]
    code: CodeQuery | None

    @property
    def terms(self) -> frozenset[Term]:
        return frozenset(t for g in self.groups for alt in g for t in alt)


def icd_ancestors(code: str) -> tuple[str, ...]:
    """ICD-10-CM categories above a code, nearest first: ``K50.90`` -> ``K50.9``, ``K50``."""
    out: list[str] = []
    value = code
    while len(value) > 3:
        value = value[:-1].rstrip(".")
        out.append(value)
    return tuple(out)


def code_query(text: str) -> CodeQuery | None:
    value = text.strip().upper().rstrip("-").rstrip(".")
    if _ICD10CM.match(value):
        return CodeQuery("icd-10-cm", value, icd_ancestors(value))
    if _SNOMED.match(value):
        return CodeQuery("snomed-ct", value, ())
    return None


def code_token(code: str) -> str:
    """The single token a code is indexed under: ``K50.9`` -> ``k509``."""
    return "".join(_parts(fold(code)))


def _query_token(token: str) -> str:
    token = SPELLING.get(token, token)
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]  # terms are prefixes: "receptors" -> "receptor*" finds both forms
    return token


def parse_query(text: str) -> ParsedQuery:
    """Parse what a person typed; raise QueryError when nothing in it can be searched."""
    text = " ".join(text.split())
    if not text:
        raise QueryError("q must contain at least one letter or digit.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"q must be at most {MAX_QUERY_LENGTH} characters.")
    folded = fold(text)
    compounds = _COMPOUND.findall(folded)
    if not compounds:
        raise QueryError("q must contain at least one letter or digit.")
    content = [c for c in compounds if c not in STOP_WORDS] or compounds
    groups: list[Group] = []
    for compound in dict.fromkeys(content):
        parts = _parts(compound)
        # A number run into its unit (``4.5mg``, ``50mg/day``) is also read as the number and the unit, as a
        # document that writes ``4.5 mg`` is indexed (documents index the runs of such words already).
        split = [run for p in parts for run in _NUMBER_THEN_LETTER.split(p)]
        alternatives: list[Alternative] = []
        if len(parts) > 1 and _HAS_LETTER.search(compound):
            alternatives.append((Term(_query_token("".join(parts))),))
        alternatives.append(tuple(dict.fromkeys(Term(_query_token(p)) for p in parts)))
        if len(split) > len(parts):
            alternatives.append(tuple(dict.fromkeys(Term(_query_token(p)) for p in split)))
        if len(parts) == 1 and compound in DOSE_WORDS:
            alternatives.append((Term(DOSE_WORDS[compound]),))
        groups.append(tuple(dict.fromkeys(alternatives)))
    if len(groups) > MAX_GROUPS:
        raise QueryError(f"q may contain at most {MAX_GROUPS} words.")
    code = code_query(text) if _HAS_DIGIT.search(text) else None  # every code has a digit
    if code is not None and len(groups) == 1:
        # A code is one token (``M79.7`` -> ``m797``, a prefix: codes below it match too), or exactly
        # one of its ICD-10-CM headers; its parts alone (``m79``, ``7``) would match unrelated text.
        exact = tuple((Term(code_token(a), prefix=False),) for a in code.ancestors)
        groups[0] = tuple(dict.fromkeys(((Term(code_token(code.code)),), *exact)))
    key = "".join([SPELLING.get(w, w) for w in _WORD.findall(folded)])  # squash(text), from the folded text
    return ParsedQuery(text=text, key=key, groups=tuple(groups), code=code)


def fts5_query(query: ParsedQuery) -> str:
    """The query in SQLite FTS5 syntax: ``("tlr4"* OR ("tlr"* AND "4"*)) AND ...``."""

    def term(t: Term) -> str:
        return f'"{t.token}"' + ("*" if t.prefix else "")

    return " AND ".join(
        "(" + " OR ".join("(" + " AND ".join(term(t) for t in alt) + ")" for alt in group) + ")"
        for group in query.groups
    )


def tsquery(query: ParsedQuery) -> str:
    """The query as a PostgreSQL tsquery literal: ``('tlr4':* | 'tlr':* & '4':*) & ...``."""

    def term(t: Term) -> str:
        return f"'{t.token}'" + (":*" if t.prefix else "")

    return " & ".join(
        "(" + " | ".join("(" + " & ".join(term(t) for t in alt) + ")" for alt in group) + ")" for group in query.groups
    )


def engine_query(query: ParsedQuery, dialect: str) -> str:
    return tsquery(query) if dialect == "postgresql" else fts5_query(query)


# ---------------------------------------------------------------------------------- match and score


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A document's tokens, prepared for prefix tests (bisect) and hit counts."""

    unique: frozenset[str]
    ordered: tuple[str, ...]
    counts: tuple[tuple[str, int], ...]
    count_map: dict[str, int]

    @classmethod
    def of(cls, tokens: Iterable[str]) -> TokenSet:
        counts: dict[str, int] = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        return cls(frozenset(counts), tuple(sorted(counts)), tuple(sorted(counts.items())), counts)

    def has(self, term: Term) -> bool:
        if term.token in self.unique:
            return True
        if not term.prefix:
            return False
        i = bisect_left(self.ordered, term.token)
        return i < len(self.ordered) and self.ordered[i].startswith(term.token)

    def group(self, group: Group) -> bool:
        return any(all(self.has(t) for t in alt) for alt in group)


@lru_cache(maxsize=4096)
def _stored_terms(terms: str) -> TokenSet:
    return TokenSet.of(terms.split())


@lru_cache(maxsize=4096)
def _stored_labels(labels: str) -> tuple[tuple[str, ...], TokenSet]:
    lines = labels.split("\n")
    return tuple(squash(line) for line in lines), TokenSet.of(document_tokens(labels))


def token_matches(token: str, wanted: Iterable[Term]) -> bool:
    return any(token == t.token or (t.prefix and token.startswith(t.token)) for t in wanted)


def matches(query: ParsedQuery, terms: str) -> bool:
    """The same test the engines make, on a document's stored tokens (space-separated)."""
    stored = _stored_terms(terms)
    return all(stored.group(g) for g in query.groups)


@dataclass(frozen=True, slots=True)
class Score:
    value: int
    match: str  # code | code-header | code-child | label | label-prefix | label-words | text


CODE_EXACT = 1000
CODE_HEADER = 950  # minus 10 per level up
CODE_CHILD = 850
LABEL_EXACT = 800
LABEL_PREFIX = 700
LABEL_WORDS = 600
TEXT = 400
HITS_MAX = 20  # matching tokens counted towards a text score


def _code_score(code: CodeQuery, codes: Sequence[str]) -> Score | None:
    own = {c.upper() for c in codes}
    if code.code in own:
        return Score(CODE_EXACT, "code")
    for depth, ancestor in enumerate(code.ancestors, start=1):
        if ancestor in own:
            return Score(CODE_HEADER - 10 * depth, "code-header")
    if code.system == "icd-10-cm" and any(c.startswith(code.code) for c in own):
        return Score(CODE_CHILD, "code-child")
    return None


def score(query: ParsedQuery, *, labels: str, codes: str, terms: str) -> Score | None:
    """How well a stored document answers the query, or None when it does not match.

    ``labels`` is one label a line; ``codes`` and ``terms`` are space-separated, as stored.
    Tiers, best first: the record's own code (exact, then an ICD-10-CM header above the code typed,
    then a code below it); a label (name, synonym, abbreviation, slug) equal to the query; a label
    starting with it; every word of the query in the labels; otherwise the text, ranked by the share
    of query words found in the labels and then by the number of matching tokens (at most 20).
    """
    if not matches(query, terms):
        return None
    keys, label_tokens = _stored_labels(labels)
    wanted = query.terms
    return score_parts(
        query,
        label_keys=keys,
        label_tokens=label_tokens,
        codes=codes.split(),
        hits=lambda: sum(n for token, n in _stored_terms(terms).counts if token_matches(token, wanted)),
    )


def score_parts(
    query: ParsedQuery,
    *,
    label_keys: Sequence[str],
    label_tokens: TokenSet,
    codes: Sequence[str],
    hits: Callable[[], int],
) -> Score:
    """:func:`score` of a document known to match, from its parts: label keys (:func:`squash` of each
    label), label tokens, codes, and a function counting its tokens that match a query term."""
    if query.code is not None:
        found = _code_score(query.code, codes)
        if found is not None:
            return found
    if query.key and query.key in label_keys:
        return Score(LABEL_EXACT, "label")
    if query.key and any(k.startswith(query.key) for k in label_keys):
        return Score(LABEL_PREFIX, "label-prefix")
    in_labels = sum(label_tokens.group(g) for g in query.groups)
    if in_labels == len(query.groups):
        return Score(LABEL_WORDS, "label-words")
    return Score(TEXT + (100 * in_labels) // len(query.groups) + min(hits(), HITS_MAX), "text")


def with_alternatives(query: ParsedQuery, groups: tuple[Group, ...]) -> ParsedQuery:
    """``query`` with other groups (the same words, more ways to match them: typo corrections)."""
    return ParsedQuery(query.text, query.key, groups, query.code)


# -------------------------------------------------------------------------------------------- snippet

SNIPPET_LENGTH = 220
_SNIPPET_WORD = re.compile(r"[^\s()\[\]{},;:!?\"“”]+")
_EDGE_PUNCTUATION = ".'‘’`´"


@lru_cache(maxsize=16384)
def _word_tokens(word: str) -> tuple[str, ...]:
    return tuple(document_tokens(word))


@lru_cache(maxsize=16384)
def _squashed(word: str) -> str:
    return squash(word)


#: A word of a sentence: its start, its end, and the tokens it is indexed under.
WordSpan = tuple[int, int, tuple[str, ...]]
#: A sentence of a document's text and its words.
Sentence = tuple[str, tuple[WordSpan, ...]]


def sentences_of(text: str) -> tuple[Sentence, ...]:
    """The sentences of ``text`` with their words' spans and tokens (computed once per document)."""
    out: list[Sentence] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()):
        spans: list[WordSpan] = []
        for m in _SNIPPET_WORD.finditer(sentence):
            word = m.group().rstrip(_EDGE_PUNCTUATION)
            lead = len(word) - len(word.lstrip(_EDGE_PUNCTUATION))
            if word[lead:]:
                spans.append((m.start() + lead, m.start() + len(word), _word_tokens(word[lead:])))
        out.append((sentence, tuple(spans)))
    return tuple(out)


def _marked_spans(words: tuple[WordSpan, ...], hit: Callable[[str], bool]) -> list[tuple[int, int]]:
    return [(a, b) for a, b, tokens in words if any(hit(token) for token in tokens)]


def _window(sentence: str, spans: Sequence[tuple[int, int]], length: int) -> tuple[int, int]:
    if len(sentence) <= length:
        return 0, len(sentence)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - length // 4, len(sentence) - length))
    if start > 0:
        space = sentence.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(sentence), start + length)
    if end < len(sentence):
        space = sentence.rfind(" ", start, end)
        end = space if space > (spans[0][1] if spans else start) else end
    return start, end


def snippet(text: str, query: ParsedQuery, length: int = SNIPPET_LENGTH) -> str:
    """The first sentence of ``text`` that contains what was typed as one word (a code), else the first
    that contains a query word; HTML-escaped, each matching word wrapped in ``<mark>``; at most ``length``
    characters of text (``…`` where cut). Without a match in the text: its first sentence, unmarked."""
    wanted = query.terms
    return snippet_of(sentences_of(text), query, lambda token: token_matches(token, wanted), length)


def snippet_of(
    sentences: Sequence[Sentence],
    query: ParsedQuery,
    hit: Callable[[str], bool],
    length: int = SNIPPET_LENGTH,
    marks: dict[int, list[tuple[int, int]]] | None = None,
) -> str:
    """:func:`snippet` from a text's prepared sentences, ``hit`` telling whether a token matches the query;
    ``marks``, when known, the matching words' spans by sentence position (no other sentence matches)."""
    if not sentences:
        return ""
    chosen, spans = sentences[0][0], list[tuple[int, int]]()
    positions = range(len(sentences)) if marks is None else sorted(marks)
    for position in positions:
        sentence, words = sentences[position]
        found = _marked_spans(words, hit) if marks is None else marks[position]
        if found and not spans:
            chosen, spans = sentence, found
        if found and any(b - a >= len(query.key) and _squashed(sentence[a:b]) == query.key for a, b in found):
            chosen, spans = sentence, found  # a sentence with the very thing typed (a code) wins
            break
    return render_snippet(chosen, spans, length)


def render_snippet(sentence: str, spans: Sequence[tuple[int, int]], length: int = SNIPPET_LENGTH) -> str:
    """``sentence`` cut to ``length`` around its first marked span, HTML-escaped, each span in ``<mark>``."""
    start, end = _window(sentence, spans, length)
    plain = "&" not in sentence and "<" not in sentence and ">" not in sentence
    escape = _as_is if plain else _escaped
    out: list[str] = ["…" if start > 0 else ""]
    position = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out += [escape(sentence[position:a]), "<mark>", escape(sentence[a:b]), "</mark>"]
        position = b
    out.append(escape(sentence[position:end]))
    out.append("…" if end < len(sentence) else "")
    return "".join(out)


def _as_is(text: str) -> str:
    return text


def _escaped(text: str) -> str:
    return html.escape(text, quote=False)
