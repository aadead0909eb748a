"""Search and read parameters: handling, parsing, matching, _summary, _elements, paging and the Bundles.

Supported on ``MedicationKnowledge`` (GET and POST ``_search``; a parameter repeated is AND, a
comma-separated list is OR, an empty value is ignored):

* ``_id`` (token): resource ids (drug and regimen slugs).
* ``_lastUpdated`` (date): ``meta.lastUpdated`` against a date or dateTime with a prefix ``eq`` (default),
  ``ne``, ``gt``, ``lt``, ``ge``, ``le``, ``sa``, ``eb``; a date stands for its whole range (``2025-03`` is all of
  March, UTC when no zone is given).
* ``code`` (token, MedicationKnowledge.code): ``code``, ``system|code``, ``|code`` (a coding without a
  system), ``system|`` (any code of the system).
* ``classification`` (token, MedicationKnowledge.medicineClassification.classification): same forms.
* ``status`` (token): ``active`` | ``inactive`` | ``entered-in-error`` (every resource here is active).
* ``_count`` (page size, lowered to the bound), ``_offset`` (paging), ``_summary`` (``true``, ``text``,
  ``data``, ``false``, ``count``), ``_elements`` (top-level element names; the resource comes back tagged
  SUBSETTED with ``id``, ``meta`` and mandatory elements always kept), ``_sort`` (``_id``, ``_lastUpdated``,
  ``-`` for descending), ``_total`` (``none`` leaves the total out; otherwise it is exact).

StructureDefinition, CodeSystem and ValueSet are searched by ``_id``, ``url`` (uri, exact), ``version``,
``status`` and ``_lastUpdated`` with the same result parameters.

``Prefer: handling=lenient`` (the default) ignores parameters the server does not know (they are left out of
the Bundle's ``self`` link and named in an OperationOutcome entry with ``search.mode`` ``outcome``);
``Prefer: handling=strict`` makes them a 400 OperationOutcome. A modifier the server does not support on a
parameter it knows (``code:text``) and a malformed value of a known parameter are 400s in both modes: ignoring
them would silently change what the search means. ``_format``, ``_pretty`` and the cache buster ``_`` are
always accepted and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from app.integrations.fhir.errors import FhirError
from app.integrations.fhir.terminology import SUBSETTED_SYSTEM

RESOURCE = "MedicationKnowledge"
STATUS_SYSTEM = "http://hl7.org/fhir/CodeSystem/medicationknowledge-status"
PUBLICATION_STATUS_SYSTEM = "http://hl7.org/fhir/publication-status"
STATUS_CODES = frozenset({"active", "inactive", "entered-in-error"})
#: Accepted on every interaction and ignored: JSON is the only format, pretty-printing is the client's business,
#: ``_`` is the conventional cache buster.
IGNORED = frozenset({"_format", "_pretty", "_"})
SUMMARY_MODES = frozenset({"true", "false", "text", "data", "count"})
STRICT = "strict"
LENIENT = "lenient"

# Elements of MedicationKnowledge (R4) marked Σ, with the Resource elements every summary keeps.
SUMMARY_ELEMENTS = (
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "code",
    "status",
    "manufacturer",
    "amount",
    "synonym",
)
_RESOURCE_ELEMENTS = "id meta implicitRules language text contained extension modifierExtension"


def _names(*lines: str) -> frozenset[str]:
    return frozenset(name for line in (_RESOURCE_ELEMENTS, *lines) for name in line.split())


#: The top-level elements of each type we serve (FHIR R4), for ``_elements``.
ELEMENTS: dict[str, frozenset[str]] = {
    RESOURCE: _names(
        "administrationGuidelines amount associatedMedication code contraindication cost doseForm",
        "drugCharacteristic ingredient intendedRoute kinetics manufacturer medicineClassification",
        "monitoringProgram monograph packaging preparationInstruction productType regulatory",
        "relatedMedicationKnowledge status synonym",
    ),
    "StructureDefinition": _names(
        "abstract baseDefinition contact context contextInvariant copyright date derivation description",
        "differential experimental fhirVersion identifier jurisdiction keyword kind mapping name",
        "publisher purpose snapshot status title type url useContext version",
    ),
    "CodeSystem": _names(
        "caseSensitive compositional concept contact content copyright count date description",
        "experimental filter hierarchyMeaning identifier jurisdiction name property publisher purpose",
        "status supplements title url useContext valueSet version versionNeeded",
    ),
    "ValueSet": _names(
        "compose contact copyright date description expansion experimental identifier immutable",
        "jurisdiction name publisher purpose status title url useContext version",
    ),
}


#: Elements of StructureDefinition, CodeSystem and ValueSet that are not summary elements (R4: the content,
#: as opposed to the metadata); ``_summary=true`` leaves them out.
NOT_IN_SUMMARY = frozenset(
    {"text", "contained", "differential", "snapshot", "concept", "property", "compose", "expansion", "purpose"}
)
#: Top-level elements with a minimum cardinality of 1: kept by ``_elements`` and ``_summary=text`` (R4 search.html).
MANDATORY: dict[str, tuple[str, ...]] = {
    RESOURCE: (),
    "StructureDefinition": ("url", "name", "status", "kind", "abstract", "type"),
    "CodeSystem": ("status", "content"),
    "ValueSet": ("status",),
}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str  # token | uri | date | number | special
    definition: str | None  # the SearchParameter's canonical URL (None for result parameters)
    documentation: str


_RESULT_PARAMS = (
    Param(
        "_count",
        "number",
        None,
        "Page size: default 20, at most 100 (a larger value is lowered to 100); 0 returns the total only.",
    ),
    Param("_offset", "number", None, "Paging: matches to skip, as written into the Bundle's next/previous links."),
    Param(
        "_summary",
        "token",
        None,
        "true (the elements marked summary), text, data, false, or count (total only, searches).",
    ),
    Param(
        "_elements",
        "special",
        None,
        "Comma-separated top-level element names to return (id and meta always come back); the resources are "
        "tagged SUBSETTED.",
    ),
    Param(
        "_sort",
        "special",
        None,
        "Order of the matches: _id (the default) or _lastUpdated, each descending with a leading '-'; "
        "comma-separated for several keys (e.g. -_lastUpdated,_id).",
    ),
    Param(
        "_total",
        "token",
        None,
        "none | estimate | accurate: the total is always exact here; none leaves Bundle.total out.",
    ),
)
SORT_KEYS = frozenset({"_id", "_lastUpdated"})
TOTAL_MODES = frozenset({"none", "estimate", "accurate"})
_LAST_UPDATED = Param(
    "_lastUpdated",
    "date",
    "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
    "meta.lastUpdated (the latest change of any record the resource is built from). Prefixes eq (default), ne, "
    "gt, lt, ge, le, sa, eb; a date or dateTime, UTC when no zone is given; repeat it for a range "
    "(_lastUpdated=ge2025-01-01&_lastUpdated=lt2025-07-01).",
)

MK_PARAMS: tuple[Param, ...] = (
    Param(
        "_id",
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
        "Logical id: the drug slug (naltrexone) or a regimen slug; comma-separated for several.",
    ),
    _LAST_UPDATED,
    Param(
        "code",
        "token",
        "http://hl7.org/fhir/SearchParameter/MedicationKnowledge-code",
        "MedicationKnowledge.code codings: RxNorm (http://www.nlm.nih.gov/research/umls/rxnorm) and UNII. "
        "Forms: code, system|code, |code, system|. The drug resource carries every RxNorm code of the content; "
        "regimen resources the RxNorm ingredient code.",
    ),
    Param(
        "classification",
        "token",
        "http://hl7.org/fhir/SearchParameter/MedicationKnowledge-classification",
        "medicineClassification.classification codings: WHO ATC (http://www.whocc.no/atc) and the molecular "
        "targets (our target CodeSystem, see CodeSystem?_id=target). Forms as for code.",
    ),
    Param(
        "status",
        "token",
        "http://hl7.org/fhir/SearchParameter/MedicationKnowledge-status",
        "active | inactive | entered-in-error (every resource served is active).",
    ),
    *_RESULT_PARAMS,
)

DEFINITION_PARAMS: tuple[Param, ...] = (
    Param("_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id", "Logical id."),
    _LAST_UPDATED,
    Param(
        "url",
        "uri",
        "http://hl7.org/fhir/SearchParameter/conformance-url",
        "The canonical URL, exactly (comma-separated for several).",
    ),
    Param(
        "version",
        "token",
        "http://hl7.org/fhir/SearchParameter/conformance-version",
        "The business version (every published definition is version 1).",
    ),
    Param(
        "status",
        "token",
        "http://hl7.org/fhir/SearchParameter/conformance-status",
        "draft | active | retired | unknown (every published definition is active).",
    ),
    *_RESULT_PARAMS,
)

TOKEN_TYPES = frozenset({"token", "uri"})
RESULT_NAMES = frozenset(p.name for p in _RESULT_PARAMS)  # shape the answer, never filter it


@dataclass(frozen=True, slots=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code of the system


@dataclass(frozen=True, slots=True)
class DateCondition:
    prefix: str
    low: datetime  # inclusive
    high: datetime  # exclusive

    def holds(self, instant: datetime) -> bool:
        inside = self.low <= instant < self.high
        if self.prefix == "eq":
            return inside
        if self.prefix == "ne":
            return not inside
        if self.prefix in ("gt", "sa"):
            return instant >= self.high
        if self.prefix in ("lt", "eb"):
            return instant < self.low
        if self.prefix == "ge":
            return instant >= self.low
        return instant < self.high  # le


@dataclass(slots=True)
class SearchQuery:
    tokens: dict[str, list[list[Token]]] = field(default_factory=dict)  # AND of ORs
    dates: list[list[DateCondition]] = field(default_factory=list)  # _lastUpdated: AND of ORs
    count: int = 20
    offset: int = 0
    summary: str | None = None
    elements: tuple[str, ...] | None = None
    sort: tuple[tuple[str, bool], ...] = ()  # (key, descending), after which the id breaks ties
    total: str | None = None
    echo: list[tuple[str, str]] = field(default_factory=list)  # the parameters as understood, for links
    ignored: list[str] = field(default_factory=list)  # parameters ignored (lenient handling)


def bad(diagnostics: str, code: str = "invalid") -> FhirError:
    return FhirError(400, code, diagnostics)


def handling(prefer: str | None) -> str:
    """The ``handling`` preference of a ``Prefer`` header (RFC 7240): strict, or lenient (the default)."""
    if prefer:
        for part in re.split(r"[,;]", prefer):
            name, _, value = part.partition("=")
            if name.strip().lower() == "handling" and value.strip().strip('"').lower() == STRICT:
                return STRICT
    return LENIENT


def _split(value: str) -> list[str]:
    """Comma-separated values; ``\\,`` is a literal comma."""
    parts, current, escaped = [], "", False
    for ch in value:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p]


def parse_token(value: str) -> Token:
    if "|" not in value:
        return Token(None, value)
    system, code = value.split("|", 1)
    return Token(system, code or None) if system else Token("", code or None)


_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?P<f>\.\d{1,9})?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?",
    re.ASCII,  # \d is 0-9 only: int() would read other scripts' digits
)
PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"})


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)


def parse_date(name: str, raw: str) -> DateCondition:
    """``[prefix]date`` as the half-open UTC range its precision covers."""
    prefix, value = (raw[:2], raw[2:]) if raw[:2].isalpha() else ("eq", raw)
    value = value.replace(" ", "+")  # an unencoded "+" of a zone offset arrives as a space
    if prefix == "ap":
        raise bad(f"{name}: the prefix ap (approximately) is not supported.", "not-supported")
    if prefix not in PREFIXES:
        raise bad(f"{name}: unknown prefix {prefix[:2]!r}; use one of {', '.join(sorted(PREFIXES))}.", "value")
    match = _DATE.fullmatch(value)
    if not match:
        raise bad(
            f"{name}: {value[:40]!r} is not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm:ss)."
        )
    g = match.groupdict()
    try:
        tz = UTC
        if g["tz"] and g["tz"] != "Z":
            sign = 1 if g["tz"][0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6])))
        low = datetime(
            int(g["y"]),
            int(g["mo"] or 1),
            int(g["d"] or 1),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            int((g["f"] or ".0")[1:7].ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        raise bad(f"{name}: {value[:40]!r} is not a valid date.") from None
    try:
        high = _end_of(low, g)
        return DateCondition(prefix, low.astimezone(UTC), high.astimezone(UTC))
    except (OverflowError, ValueError):  # at the edge of the calendar (year 9999, year 1 with a zone)
        raise bad(f"{name}: {value[:40]!r} is outside the supported range of dates.", "value") from None


def _end_of(low: datetime, g: dict[str, str | None]) -> datetime:
    """The exclusive end of the range a date of this precision stands for."""
    if g["mo"] is None:
        return low.replace(year=low.year + 1)
    if g["d"] is None:
        return _add_months(low, 1)
    if g["h"] is None:
        return low + timedelta(days=1)
    if g["s"] is None:
        return low + timedelta(minutes=1)
    if g["f"] is None:
        return low + timedelta(seconds=1)
    return low + timedelta(microseconds=10 ** max(0, 6 - min(6, len(g["f"]) - 1)))


_DIGITS = re.compile(r"[0-9]+")
_HUGE = 10**12  # any larger count or offset means "all of them" here


def non_negative(name: str, value: str) -> int:
    """An ASCII decimal integer >= 0 (huge values are capped, never parsed digit by digit)."""
    if not _DIGITS.fullmatch(value):
        raise bad(f"{name} must be a non-negative integer, not {value[:40]!r}.", "value")
    return _HUGE if len(value.lstrip("0")) > 12 else int(value)


def single(name: str, values: list[str]) -> str:
    if len(values) > 1:
        raise bad(f"{name} is given {len(values)} times; give it once.")
    return values[0]


def grouped(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in items:
        out.setdefault(key, []).append(value)
    return out


def sort_out(items: list[tuple[str, str]], known: frozenset[str], mode: str) -> tuple[dict[str, list[str]], list[str]]:
    """The known parameters, grouped, and the names ignored. An unknown name is a 400 when ``mode`` is strict;
    an unsupported modifier on a known name is a 400 in either mode."""
    params = grouped(items)
    kept: dict[str, list[str]] = {}
    ignored: list[str] = []
    documented = ", ".join(sorted(known | IGNORED)) or "none"
    for name, values in params.items():
        if name in IGNORED:
            continue
        if name in known:
            kept[name] = values
            continue
        base_name = name.split(":", 1)[0]
        if ":" in name and base_name in known:
            raise bad(f"The modifier in {name[:80]!r} is not supported.", "not-supported")
        if mode == STRICT:
            raise bad(
                f"Unknown parameter {name[:80]!r} (Prefer: handling=strict). Supported: {documented}.", "not-supported"
            )
        ignored.append(name)
    return kept, ignored


def parse_summary(values: list[str] | None, *, allowed: frozenset[str] = SUMMARY_MODES) -> str | None:
    if not values:
        return None
    mode = single("_summary", values)
    if mode not in allowed:
        raise bad(f"_summary must be one of {', '.join(sorted(allowed))}, not {mode!r}.", "value")
    return mode


def parse_elements(values: list[str] | None, kind: str, mode: str, ignored: list[str]) -> tuple[str, ...] | None:
    """``_elements``: known top-level names of ``kind``; an unknown name is a 400 when strict, else ignored."""
    if not values:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    if not names:
        return None
    valid = ELEMENTS.get(kind, frozenset())
    unknown = [n for n in names if n.removeprefix(f"{kind}.") not in valid]
    if unknown:
        if mode == STRICT:
            raise bad(f"_elements: {', '.join(unknown)} are not top-level elements of {kind}.", "not-supported")
        ignored += [f"_elements={n}" for n in unknown]
    kept = [n.removeprefix(f"{kind}.") for n in names if n not in unknown]
    return tuple(dict.fromkeys(kept))


def summary_modes(kind: str) -> frozenset[str]:
    """Every ``_summary`` mode applies to every type we serve (``count`` only to searches)."""
    return SUMMARY_MODES


@dataclass(frozen=True, slots=True)
class ReadOptions:
    summary: str | None
    elements: tuple[str, ...] | None
    ignored: list[str]


def parse_read(items: list[tuple[str, str]], mode: str, kind: str = RESOURCE) -> ReadOptions:
    """The ``_summary`` and ``_elements`` of a read; other parameters are ignored (lenient) or a 400 (strict)."""
    params, ignored = sort_out(items, frozenset({"_summary", "_elements"}), mode)
    summary = parse_summary(params.get("_summary"), allowed=summary_modes(kind) - {"count"})
    return ReadOptions(summary, parse_elements(params.get("_elements"), kind, mode, ignored), ignored)


def parse_search(
    items: list[tuple[str, str]],
    *,
    default_count: int,
    max_count: int,
    mode: str = LENIENT,
    kind: str = RESOURCE,
    params: tuple[Param, ...] = MK_PARAMS,
) -> SearchQuery:
    query = SearchQuery(count=default_count)
    by_name = {p.name: p for p in params}
    given, query.ignored = sort_out(items, frozenset(by_name), mode)
    for name in sorted(n for n, p in by_name.items() if p.type in TOKEN_TYPES and n in given and n not in RESULT_NAMES):
        for value in given[name]:
            values = _split(value)
            if not values:
                continue
            if name == "_id" or by_name[name].type == "uri" or name == "version":
                tokens = [Token(None, v) for v in values]
            else:
                tokens = [parse_token(v) for v in values]
            query.tokens.setdefault(name, []).append(tokens)
            query.echo.append((name, value))
    for value in given.get("_lastUpdated", []):
        values = _split(value)
        if values:
            query.dates.append([parse_date("_lastUpdated", v) for v in values])
            query.echo.append(("_lastUpdated", value))
    query.summary = parse_summary(given.get("_summary"), allowed=summary_modes(kind))
    query.elements = parse_elements(given.get("_elements"), kind, mode, query.ignored)
    if "_count" in given:
        query.count = min(non_negative("_count", single("_count", given["_count"])), max_count)
        if query.count == 0:
            query.summary = "count"
    if "_offset" in given:
        query.offset = non_negative("_offset", single("_offset", given["_offset"]))
    if "_sort" in given:
        query.sort = parse_sort(single("_sort", given["_sort"]), mode, query.ignored)
    if "_total" in given:
        query.total = single("_total", given["_total"])
        if query.total not in TOTAL_MODES:
            raise bad(f"_total must be one of {', '.join(sorted(TOTAL_MODES))}, not {query.total[:40]!r}.", "value")
    return query


def parse_sort(value: str, mode: str, ignored: list[str]) -> tuple[tuple[str, bool], ...]:
    """``_sort`` keys; an unsupported key is a 400 when strict, else ignored (the matches stay the same)."""
    keys = []
    for part in _split(value):
        key = part.removeprefix("-")
        if key in SORT_KEYS:
            keys.append((key, part.startswith("-")))
        elif mode == STRICT:
            raise bad(f"_sort: {key[:40]!r} is not supported; sort by {', '.join(sorted(SORT_KEYS))}.", "not-supported")
        else:
            ignored.append(f"_sort={part}")
    return tuple(keys)


def ordered(resources: dict[str, dict[str, Any]], sort: tuple[tuple[str, bool], ...]) -> list[dict[str, Any]]:
    """The resources by id, then re-sorted (stably) by each ``_sort`` key from the last to the first."""
    out = [r for _, r in sorted(resources.items())]
    for key, descending in reversed(sort):
        if key == "_id":
            out.sort(key=lambda r: str(r["id"]), reverse=descending)
        else:
            out.sort(key=lambda r: last_updated(r) or datetime.min.replace(tzinfo=UTC), reverse=descending)
    return out


def _token_matches(token: Token, codings: list[dict[str, Any]]) -> bool:
    for c in codings:
        system = c.get("system")
        if token.system is not None and (token.system or None) != system:
            continue
        if token.code is not None and c.get("code") != token.code:
            continue
        return True
    return False


def _codings(resource: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if name == "code":
        codings: list[dict[str, Any]] = resource.get("code", {}).get("coding", [])
        return codings
    if name == "classification":
        return [
            c
            for group in resource.get("medicineClassification", [])
            for concept in group.get("classification", [])
            for c in concept.get("coding", [])
        ]
    if name == "status":
        system = STATUS_SYSTEM if resource["resourceType"] == RESOURCE else PUBLICATION_STATUS_SYSTEM
        return [{"system": system, "code": resource.get("status")}]
    if name in ("url", "version"):
        return [{"code": resource.get(name)}]
    return [{"code": resource["id"]}]


def last_updated(resource: dict[str, Any]) -> datetime | None:
    stamp = resource.get("meta", {}).get("lastUpdated")
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def matches(resource: dict[str, Any], query: SearchQuery) -> bool:
    for name, groups in query.tokens.items():
        codings = _codings(resource, name)
        for alternatives in groups:
            if not any(_token_matches(t, codings) for t in alternatives):
                return False
    if query.dates:
        instant = last_updated(resource)
        if instant is None:
            return False
        for conditions in query.dates:
            if not any(c.holds(instant) for c in conditions):
                return False
    return True


def _tagged(out: dict[str, Any]) -> dict[str, Any]:
    """``out`` in FHIR key order (resourceType, id, meta first), its meta tagged SUBSETTED."""
    meta = dict(out.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), {"system": SUBSETTED_SYSTEM, "code": "SUBSETTED", "display": "subsetted"}]
    rest = {k: v for k, v in out.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": out["resourceType"], "id": out["id"], "meta": meta, **rest}


def summarize(resource: dict[str, Any], mode: str | None, elements: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The resource reduced per ``_summary`` and then ``_elements`` (tagged SUBSETTED when reduced)."""
    out = resource
    reduced = False
    if mode not in (None, "false"):
        reduced = True
        if mode == "true" and out["resourceType"] == RESOURCE:
            out = {k: out[k] for k in SUMMARY_ELEMENTS if k in out}
        elif mode == "true":  # a definition: its metadata without the bulky, non-summary content
            out = {k: v for k, v in out.items() if k not in NOT_IN_SUMMARY}
        elif mode == "text":
            keep = ("resourceType", "id", "meta", "text", *MANDATORY.get(out["resourceType"], ()))
            out = {k: v for k, v in out.items() if k in keep}
        else:  # data
            out = {k: v for k, v in out.items() if k != "text"}
    if elements is not None:
        reduced = True
        wanted = {"resourceType", "id", "meta", *MANDATORY.get(out["resourceType"], ()), *elements}
        if wanted & {"contraindication", "contained"}:  # a contained resource and its reference go together
            wanted |= {"contraindication", "contained"}
        out = {k: v for k, v in out.items() if k in wanted}
    return _tagged(out) if reduced else out


def _outcome_entry(ignored: list[str]) -> dict[str, Any]:
    """The OperationOutcome entry (``search.mode`` outcome) naming each parameter a lenient search ignored."""
    issues = [
        {
            "severity": "warning",
            "code": "not-supported",
            "diagnostics": f"Parameter {name[:80]!r} was ignored (unknown or unsupported here; Prefer: handling=lenient). "
            "Send Prefer: handling=strict to have it rejected.",
        }
        for name in ignored
    ]
    return {"resource": {"resourceType": "OperationOutcome", "issue": issues}, "search": {"mode": "outcome"}}


def search_bundle(
    resources: dict[str, dict[str, Any]],
    query: SearchQuery,
    endpoint: str,
    last_updated_at: str | None,
    full_url: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """The searchset Bundle of ``resources`` matching ``query``; links against ``endpoint`` (absolute URL of the
    type), only with the parameters used."""
    hits = [r for r in ordered(resources, query.sort) if matches(r, query)]

    def link(relation: str, offset: int) -> dict[str, str]:
        params = list(query.echo)
        if query.summary:
            params.append(("_summary", query.summary))
        if query.elements is not None:
            params.append(("_elements", ",".join(query.elements)))
        if query.sort:
            params.append(("_sort", ",".join(("-" if d else "") + k for k, d in query.sort)))
        if query.total:
            params.append(("_total", query.total))
        if query.summary != "count":
            params.append(("_count", str(query.count)))
            if offset:
                params.append(("_offset", str(offset)))
        return {"relation": relation, "url": f"{endpoint}?{urlencode(params)}" if params else endpoint}

    bundle: dict[str, Any] = {"resourceType": "Bundle"}
    if last_updated_at:
        bundle["meta"] = {"lastUpdated": last_updated_at}
    bundle["type"] = "searchset"
    if query.total != "none":
        bundle["total"] = len(hits)
    links = [link("self", query.offset)]
    entries: list[dict[str, Any]] = [_outcome_entry(query.ignored)] if query.ignored else []
    if query.summary != "count":
        page = hits[query.offset : query.offset + query.count]
        if query.count and query.offset + query.count < len(hits):
            links.append(link("next", query.offset + query.count))
        if query.offset > 0:
            links.append(link("previous", max(0, query.offset - query.count)))
        entries += [
            {
                "fullUrl": full_url(r) if full_url else f"{endpoint}/{r['id']}",
                "resource": summarize(r, query.summary, query.elements),
                "search": {"mode": "match"},
            }
            for r in page
        ]
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return bundle
