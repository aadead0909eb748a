"""Search and read parameters: parsing, token matching, _summary, paging and the searchset Bundle.

Supported on ``MedicationKnowledge`` (GET and POST ``_search``; a parameter repeated is AND, a
comma-separated list is OR, an empty value is ignored):

* ``_id`` (token): resource ids (drug and regimen slugs).
* ``code`` (token, MedicationKnowledge.code): ``code``, ``system|code``, ``|code`` (a coding without a
  system), ``system|`` (any code of the system).
* ``classification`` (token, MedicationKnowledge.medicineClassification.classification): same forms, e.g.
  ``http://www.whocc.no/atc|N07BB04`` or ``{base}/fhir/R4/CodeSystem/target|mu-opioid-receptor``.
* ``status`` (token): ``active`` | ``inactive`` | ``entered-in-error`` (every resource here is active).
* ``_count`` (number): page size, default and upper bound from the settings (20 and 100); a larger value
  is lowered to the bound (FHIR only forbids returning more than asked); ``0`` means ``_summary=count``.
* ``_offset`` (number): how many matches to skip (the paging cursor of ``link`` ``next``/``previous``).
* ``_summary`` (token): ``true`` (Σ elements only), ``text``, ``data``, ``false``, ``count`` (total only).
* ``_format`` and ``_pretty`` are accepted and ignored (JSON only). Modifiers (``code:text``, ...) and any
  other parameter are a 400 OperationOutcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from app.integrations.fhir.errors import FhirError
from app.integrations.fhir.extensions import FHIR_PATH
from app.integrations.fhir.terminology import SUBSETTED_SYSTEM

RESOURCE = "MedicationKnowledge"
STATUS_SYSTEM = "http://hl7.org/fhir/CodeSystem/medicationknowledge-status"
STATUS_CODES = frozenset({"active", "inactive", "entered-in-error"})
IGNORED = frozenset({"_format", "_pretty"})
SUMMARY_MODES = frozenset({"true", "false", "text", "data", "count"})
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

SEARCH_PARAMS: tuple[tuple[str, str, str, str], ...] = (
    (
        "_id",
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
        "Logical id: the drug slug (naltrexone) or a regimen slug; comma-separated for several.",
    ),
    (
        "code",
        "token",
        "http://hl7.org/fhir/SearchParameter/MedicationKnowledge-code",
        "MedicationKnowledge.code codings: RxNorm (http://www.nlm.nih.gov/research/umls/rxnorm) and UNII. "
        "Forms: code, system|code, |code, system|. The drug resource carries every RxNorm code of the content; "
        "regimen resources the RxNorm ingredient code.",
    ),
    (
        "classification",
        "token",
        "http://hl7.org/fhir/SearchParameter/MedicationKnowledge-classification",
        "medicineClassification.classification codings: WHO ATC (http://www.whocc.no/atc) and the molecular "
        "targets ({base}/fhir/R4/CodeSystem/target). Forms as for code.",
    ),
    (
        "status",
        "token",
        "http://hl7.org/fhir/SearchParameter/MedicationKnowledge-status",
        "active | inactive | entered-in-error (every resource served is active).",
    ),
    (
        "_count",
        "number",
        "http://hl7.org/fhir/SearchParameter/Resource-count",
        "Page size: default 20, at most 100 (a larger value is lowered to 100); 0 returns the total only.",
    ),
    (
        "_offset",
        "number",
        "http://hl7.org/fhir/SearchParameter/Resource-offset",
        "Paging: matches to skip, as written into the Bundle's next/previous links (sorted by id).",
    ),
    (
        "_summary",
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-summary",
        "true (Σ elements: code, status, synonym, ...), text, data, false, or count (Bundle.total only).",
    ),
)
TOKEN_PARAMS = frozenset({"_id", "code", "classification", "status"})
KNOWN = frozenset(name for name, *_ in SEARCH_PARAMS)


@dataclass(frozen=True, slots=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code of the system


@dataclass(slots=True)
class SearchQuery:
    tokens: dict[str, list[list[Token]]] = field(default_factory=dict)  # AND of ORs
    count: int = 20
    offset: int = 0
    summary: str | None = None
    echo: list[tuple[str, str]] = field(default_factory=list)  # the parameters as understood, for links


def bad(diagnostics: str, code: str = "invalid") -> FhirError:
    return FhirError(400, code, diagnostics)


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


def _non_negative(name: str, value: str) -> int:
    if not value.isdigit():
        raise bad(f"{name} must be a non-negative integer, not {value!r}.", "value")
    return int(value)


def _single(name: str, values: list[str]) -> str:
    if len(values) > 1:
        raise bad(f"{name} is given {len(values)} times; give it once.")
    return values[0]


def _unknown(name: str, allowed: frozenset[str]) -> FhirError:
    base_name = name.split(":", 1)[0]
    if ":" in name and base_name in allowed:
        return bad(f"The modifier in {name!r} is not supported.", "not-supported")
    documented = ", ".join(sorted(allowed | IGNORED))
    return bad(f"Unknown parameter {name!r}. Supported: {documented}.", "not-supported")


def grouped(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in items:
        out.setdefault(key, []).append(value)
    return out


def parse_summary(values: list[str] | None, *, allow_count: bool) -> str | None:
    if not values:
        return None
    mode = _single("_summary", values)
    allowed = SUMMARY_MODES if allow_count else SUMMARY_MODES - {"count"}
    if mode not in allowed:
        raise bad(f"_summary must be one of {', '.join(sorted(allowed))}, not {mode!r}.", "value")
    return mode


def parse_read(items: list[tuple[str, str]]) -> str | None:
    """The ``_summary`` of a read (the only parameter a read takes besides _format and _pretty)."""
    params = grouped(items)
    for name in params:
        if name not in IGNORED and name != "_summary":
            raise _unknown(name, frozenset({"_summary"}))
    return parse_summary(params.get("_summary"), allow_count=False)


def parse_plain(items: list[tuple[str, str]], allowed: frozenset[str] = frozenset()) -> None:
    """Reject every parameter but _format, _pretty and ``allowed`` (metadata, definitions)."""
    for name, _ in items:
        if name not in IGNORED and name not in allowed:
            raise _unknown(name, allowed)


def parse_search(items: list[tuple[str, str]], *, default_count: int, max_count: int) -> SearchQuery:
    query = SearchQuery(count=default_count)
    params = grouped(items)
    for name in params:
        if name not in KNOWN and name not in IGNORED:
            raise _unknown(name, KNOWN)
    for name in sorted(TOKEN_PARAMS & params.keys()):
        for value in params[name]:
            values = _split(value)
            if not values:
                continue
            tokens = [parse_token(v) for v in values]
            if name == "_id":
                tokens = [Token(None, v) for v in values]
            query.tokens.setdefault(name, []).append(tokens)
            query.echo.append((name, value))
    query.summary = parse_summary(params.get("_summary"), allow_count=True)
    if "_count" in params:
        query.count = min(_non_negative("_count", _single("_count", params["_count"])), max_count)
        if query.count == 0:
            query.summary = "count"
    if "_offset" in params:
        query.offset = _non_negative("_offset", _single("_offset", params["_offset"]))
    return query


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
        return [{"system": STATUS_SYSTEM, "code": resource.get("status")}]
    return [{"code": resource["id"]}]


def matches(resource: dict[str, Any], query: SearchQuery) -> bool:
    for name, groups in query.tokens.items():
        codings = _codings(resource, name)
        for alternatives in groups:
            if not any(_token_matches(t, codings) for t in alternatives):
                return False
    return True


def summarize(resource: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """The resource reduced per ``_summary`` (tagged SUBSETTED when reduced)."""
    if mode in (None, "false"):
        return resource
    if mode == "true":
        out = {k: resource[k] for k in SUMMARY_ELEMENTS if k in resource}
    elif mode == "text":
        out = {k: resource[k] for k in ("resourceType", "id", "meta", "text") if k in resource}
    else:  # data
        out = {k: v for k, v in resource.items() if k != "text"}
    meta = dict(out.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), {"system": SUBSETTED_SYSTEM, "code": "SUBSETTED", "display": "subsetted"}]
    rest = {k: v for k, v in out.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": out["resourceType"], "id": out["id"], "meta": meta, **rest}


def search_bundle(
    resources: dict[str, dict[str, Any]], query: SearchQuery, base: str, last_updated: str | None
) -> dict[str, Any]:
    hits = [r for _, r in sorted(resources.items()) if matches(r, query)]
    endpoint = f"{base}{FHIR_PATH}/{RESOURCE}"

    def link(relation: str, offset: int) -> dict[str, str]:
        params = list(query.echo)
        if query.summary:
            params.append(("_summary", query.summary))
        if query.summary != "count":
            params.append(("_count", str(query.count)))
            if offset:
                params.append(("_offset", str(offset)))
        return {"relation": relation, "url": f"{endpoint}?{urlencode(params)}" if params else endpoint}

    bundle: dict[str, Any] = {"resourceType": "Bundle"}
    if last_updated:
        bundle["meta"] = {"lastUpdated": last_updated}
    bundle["type"] = "searchset"
    bundle["total"] = len(hits)
    links = [link("self", query.offset)]
    if query.summary == "count":
        bundle["link"] = links
        return bundle
    page = hits[query.offset : query.offset + query.count]
    if query.count and query.offset + query.count < len(hits):
        links.append(link("next", query.offset + query.count))
    if query.offset > 0:
        links.append(link("previous", max(0, query.offset - query.count)))
    bundle["link"] = links
    if page:
        bundle["entry"] = [
            {"fullUrl": f"{endpoint}/{r['id']}", "resource": summarize(r, query.summary), "search": {"mode": "match"}}
            for r in page
        ]
    return bundle
