"""Reading medication orders and medication lists out of a CDS Hooks request (pure: dicts in, dataclasses out).

What EHRs send (FHIR R4): ``MedicationRequest`` in ``context.draftOrders``; ``MedicationRequest`` and
``MedicationStatement`` Bundles in ``prefetch``. The medication is a ``medicationCodeableConcept``, a
contained ``Medication`` (``medicationReference`` ``#id``), or a reference to a ``Medication`` elsewhere
(``Medication/123``: found in the request's Bundles, else fetched by the caller; see :mod:`.fhir_client`).

Nothing here trusts the shape of its input: every field may be missing, null or of another JSON type, and
every reader answers "not readable" rather than raise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, Literal

from app.integrations.cds_hooks.dosage import STATED_BY_MEDICATION

RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC: Final = "http://www.whocc.no/atc"
SNOMED: Final = "http://snomed.info/sct"
#: The FHIR URI and the HL7 OID of each code system (reference §7), either of which orders carry.
RXNORM_SYSTEMS: Final = frozenset({RXNORM, "urn:oid:2.16.840.1.113883.6.88"})
ATC_SYSTEMS: Final = frozenset({ATC, "urn:oid:2.16.840.1.113883.6.73"})
UCUM: Final = "http://unitsofmeasure.org"
ORDER_TYPES: Final = ("MedicationRequest", "MedicationStatement")
#: Statuses of a medication-list entry that mean "not taken now" (others, or none, count as current).
ENDED: Final = frozenset({"completed", "stopped", "cancelled", "entered-in-error", "not-taken", "revoked", "ended"})
"""Statuses of a medication-list line that has ended. ``unknown`` is not one: a line whose status is not
known may be active, and an opioid on it is never left out of the contraindication check."""
_FHIR_ID: Final = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_SYSTEM_NAMES: Final = {RXNORM: "RxNorm", ATC: "ATC", SNOMED: "SNOMED CT", "http://hl7.org/fhir/sid/ndc": "NDC"}

Origin = Literal["draft", "active"]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# --------------------------------------------------------------------------------------------------
# The medication an order is for


@dataclass(frozen=True, slots=True)
class MedicationInfo:
    """What a medication carries: readable names and codes."""

    texts: tuple[str, ...]
    rxnorm: tuple[str, ...]
    atc: tuple[str, ...]
    other_codes: tuple[str, ...]
    """Other codings, as ``"System code"`` (for saying what could not be classified)."""
    strength_mg: Decimal | None = None
    """Amount of ingredient per unit (tablet, injection), when the Medication resource states it in mg."""
    form: tuple[str, ...] = ()
    """The Medication resource's dose form, as named (``tablet``): what the product's route is read from."""
    unread_ingredients: tuple[str, ...] = ()
    """Ingredients given only by a reference, with no name to read (``#m2``): what it contains is not known."""

    @property
    def label(self) -> str | None:
        return self.texts[0] if self.texts else None

    def described(self) -> str:
        """A name for a clinician: the text, else the codes (``RxNorm 123456``)."""
        if self.label:
            return self.label
        codes = [f"RxNorm {c}" for c in self.rxnorm] + [f"ATC {c}" for c in self.atc] + list(self.other_codes)
        return ", ".join(codes) if codes else "a medication with no name or code"


def concept_info(concept: Any) -> MedicationInfo:
    """A CodeableConcept's names (text, coding displays) and codes."""
    concept = _dict(concept)
    codings = [c for c in _list(concept.get("coding")) if isinstance(c, dict)]
    texts = [_str(concept.get("text"))] + [_str(c.get("display")) for c in codings]
    rxnorm, atc, other = [], [], []
    for coding in codings:
        code = _str(coding.get("code"))
        if not code:
            continue
        system = _str(coding.get("system")).rstrip("/")
        if system in RXNORM_SYSTEMS:
            rxnorm.append(code)
        elif system in ATC_SYSTEMS:
            atc.append(code)
        else:
            other.append(f"{_SYSTEM_NAMES.get(system, 'code')} {code}")
    unique = list(dict.fromkeys(t for t in texts if t))
    return MedicationInfo(tuple(unique), tuple(rxnorm), tuple(atc), tuple(other))


def _quantity_mg(quantity: Any) -> Decimal | None:
    quantity = _dict(quantity)
    value = quantity.get("value")
    unit = (_str(quantity.get("code")) or _str(quantity.get("unit"))).lower()
    if isinstance(value, bool) or not isinstance(value, int | float) or unit != "mg" or value <= 0:
        return None
    return Decimal(str(value))


_NALTREXONE_WORD: Final = re.compile(r"\bnaltrexone\b", re.IGNORECASE)


def _ingredient_info(ingredient: Mapping[str, Any]) -> MedicationInfo:
    """An ingredient's item (R4 itemCodeableConcept or itemReference, R5 item): its names and codes."""
    item = _dict(ingredient.get("item"))
    infos = [concept_info(c) for c in (ingredient.get("itemCodeableConcept"), item.get("concept"), item)]
    displays = [_str(_dict(r).get("display")) for r in (ingredient.get("itemReference"), item.get("reference"))]
    return MedicationInfo(
        tuple(dict.fromkeys([*(t for i in infos for t in i.texts), *(d for d in displays if d)])),
        tuple(c for i in infos for c in i.rxnorm),
        tuple(c for i in infos for c in i.atc),
        tuple(c for i in infos for c in i.other_codes),
    )


def _names_naltrexone(ingredient: Mapping[str, Any]) -> bool:
    """Whether an ingredient's item names naltrexone."""
    return any(_NALTREXONE_WORD.search(t) for t in _ingredient_info(ingredient).texts)


def medication_resource_info(resource: Mapping[str, Any]) -> MedicationInfo:
    """A Medication resource: its code, and naltrexone's strength in mg per 1 unit, read from the one
    ingredient whose item names naltrexone (another ingredient's strength is never taken for it)."""
    info = concept_info(resource.get("code"))
    every = [i for i in _list(resource.get("ingredient")) if isinstance(i, dict)]
    parts = [_ingredient_info(i) for i in every]  # what it contains names it too (an opioid in it, or naltrexone)
    info = MedicationInfo(
        tuple(dict.fromkeys([*info.texts, *(t for p in parts for t in p.texts)])),
        (*info.rxnorm, *(c for p in parts for c in p.rxnorm)),
        (*info.atc, *(c for p in parts for c in p.atc)),
        (*info.other_codes, *(c for p in parts for c in p.other_codes)),
    )
    unread = tuple(
        ref
        for i, part in zip(every, parts, strict=True)
        if not part.texts and not part.rxnorm and not part.atc
        for ref in [
            _str(_dict(i.get("itemReference")).get("reference"))
            or _str(_dict(_dict(i.get("item")).get("reference")).get("reference"))
        ]
        if ref
    )
    info = replace(info, form=concept_info(resource.get("form")).texts, unread_ingredients=unread)
    ingredients = [i for i in every if _names_naltrexone(i)]
    strength = None
    if len(ingredients) == 1:
        ratio = _dict(ingredients[0].get("strength"))
        denominator = _dict(ratio.get("denominator"))
        if denominator.get("value") == 1:
            strength = _quantity_mg(ratio.get("numerator"))
    return replace(info, strength_mg=strength)


# --------------------------------------------------------------------------------------------------
# Entries: one order or medication-list line each


@dataclass(frozen=True, slots=True)
class Entry:
    """A MedicationRequest or MedicationStatement from the drafts (``draft``) or the medication list (``active``)."""

    key: str
    """``MedicationRequest/123`` (or a description of its place when it has no id)."""
    resource_type: str
    resource_id: str | None
    origin: Origin
    status: str | None
    medication: MedicationInfo | None
    """``None`` while the medication is a reference not yet resolved (see ``reference``)."""
    reference: str | None = None
    reference_display: str | None = None
    dosages: tuple[dict[str, Any], ...] = ()
    """The dosage lines (``dosageInstruction``, or ``dosage`` of a statement), in order."""
    full_url: str | None = None
    """The Bundle entry's ``fullUrl`` (order-select ``selections`` may name an order by it)."""
    replaces: tuple[str, ...] = ()
    """The orders this one renews or records (``priorPrescription``, ``basedOn``, a statement's
    ``derivedFrom``), as references (``MedicationRequest/a1``): the same prescription, not another one."""

    @property
    def name(self) -> str:
        if self.medication is not None:
            return self.medication.described()
        if self.reference_display:
            return self.reference_display
        return f"the medication {self.reference}" if self.reference else "a medication"


def _contained(resource: Mapping[str, Any], ref: str) -> dict[str, Any] | None:
    wanted = ref[1:]
    for item in _list(resource.get("contained")):
        if isinstance(item, dict) and item.get("resourceType") == "Medication" and item.get("id") == wanted:
            return item
    return None


def _first_contained_medication(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    return next(
        (c for c in _list(resource.get("contained")) if isinstance(c, dict) and c.get("resourceType") == "Medication"),
        None,
    )


def _entry(resource: Mapping[str, Any], origin: Origin, place: str, full_url: str | None = None) -> Entry:
    resource_type = str(resource.get("resourceType"))
    raw_id = resource.get("id")
    resource_id = raw_id if isinstance(raw_id, str) and raw_id else None
    key = f"{resource_type}/{resource_id}" if resource_id else f"{resource_type} ({place})"
    dosages = _list(resource.get("dosageInstruction" if resource_type == "MedicationRequest" else "dosage"))
    lines = tuple(d for d in dosages if isinstance(d, dict))
    status = _str(resource.get("status")).lower() or None

    replaces = tuple(
        ref
        for item in [
            resource.get("priorPrescription"),
            *_list(resource.get("basedOn")),
            *_list(resource.get("derivedFrom")),
        ]
        if (ref := _str(_dict(item).get("reference")))
    )

    def entry(medication: MedicationInfo | None, reference: str | None = None, display: str | None = None) -> Entry:
        return Entry(
            key, resource_type, resource_id, origin, status, medication, reference, display, lines, full_url, replaces
        )

    r5 = _dict(resource.get("medication"))  # FHIR R5's CodeableReference, sent by some clients
    concept = resource.get("medicationCodeableConcept", r5.get("concept"))
    if isinstance(concept, dict):
        return entry(concept_info(concept))
    reference = _dict(resource.get("medicationReference", r5.get("reference")))
    ref = _str(reference.get("reference"))
    display = _str(reference.get("display")) or None
    if ref.startswith("#"):
        contained = _contained(resource, ref)
        if contained is not None:
            return entry(medication_resource_info(contained))
    elif not ref:
        contained = _first_contained_medication(resource)
        if contained is not None and not display:
            return entry(medication_resource_info(contained))
        if display:  # a reference with only a display: its name is all there is
            return entry(MedicationInfo((display,), (), (), ()))
    return entry(None, ref or None, display)


def bundle_entries(bundle: Any) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(fullUrl, resource) of each entry of a Bundle (or the resource itself when a single one is given)."""
    bundle = _dict(bundle)
    if bundle.get("resourceType") != "Bundle":
        if bundle.get("resourceType"):
            yield None, bundle
        return
    for item in _list(bundle.get("entry")):
        resource = _dict(item).get("resource")
        if isinstance(resource, dict):
            yield _str(_dict(item).get("fullUrl")) or None, resource


def bundle_resources(bundle: Any) -> Iterator[dict[str, Any]]:
    """The resources of a Bundle (or the resource itself when a single resource is given)."""
    for _url, resource in bundle_entries(bundle):
        yield resource


def read_entries(bundle: Any, origin: Origin, *, where: str) -> list[Entry]:
    """The MedicationRequests (and MedicationStatements) of a Bundle; medication-list lines that ended are left out."""
    out: list[Entry] = []
    for n, (full_url, resource) in enumerate(bundle_entries(bundle), start=1):
        if resource.get("resourceType") not in ORDER_TYPES:
            continue
        entry = _entry(resource, origin, f"{where}, entry {n}", full_url)
        if origin == "active" and entry.status in ENDED:
            continue
        out.append(entry)
    return out


def medication_index(bundles: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Medication resources found in the request's Bundles, by ``Medication/id`` and by ``fullUrl``."""
    index: dict[str, dict[str, Any]] = {}
    for bundle in bundles:
        entries = _list(_dict(bundle).get("entry")) if _dict(bundle).get("resourceType") == "Bundle" else []
        for item in entries:
            item = _dict(item)
            resource = _dict(item.get("resource"))
            if resource.get("resourceType") != "Medication":
                continue
            if isinstance(resource.get("id"), str):
                index.setdefault(f"Medication/{resource['id']}", resource)
            full_url = _str(item.get("fullUrl"))
            if full_url:
                index.setdefault(full_url, resource)
    return index


def reference_id(ref: str) -> str | None:
    """The Medication id of a reference (``Medication/123``, ``https://x/fhir/Medication/123/_history/2``)."""
    match = re.search(r"(?:^|/)Medication/([^/]+)(?:/_history/[^/]+)?$", ref)
    if match is None or not _FHIR_ID.match(match.group(1)):
        return None
    return match.group(1)


def resolve(entry: Entry, index: Mapping[str, dict[str, Any]]) -> Entry:
    """The entry with its referenced Medication read from ``index`` (unchanged when not found there)."""
    if entry.medication is not None or not entry.reference:
        return entry
    found = index.get(entry.reference)
    if found is None:
        medication_id = reference_id(entry.reference)
        found = index.get(f"Medication/{medication_id}") if medication_id else None
    if found is None:
        return entry
    return replace(entry, medication=medication_resource_info(found))


def with_display_only(entry: Entry) -> Entry:
    """An unresolved entry classified by its reference's display, when it has one."""
    if entry.medication is None and entry.reference_display:
        return replace(entry, medication=MedicationInfo((entry.reference_display,), (), (), ()))
    return entry


# --------------------------------------------------------------------------------------------------
# Naltrexone


@dataclass(frozen=True, slots=True)
class Naltrexone:
    """How to recognise naltrexone: the content's RxNorm codes, ATC code and names."""

    rxnorm: frozenset[str]
    atc: frozenset[str]
    names: tuple[str, ...]
    strengths: Mapping[str, tuple[Decimal, str]]
    """RxNorm product code -> (mg per unit, the product's name), from the content's identifier notes."""
    oral_tablets: frozenset[str] = frozenset()
    """RxNorm product codes whose note names an oral tablet."""
    injections: frozenset[str] = frozenset()
    """RxNorm product codes whose note names an injection (naltrexone's is given intramuscularly)."""

    def matches(self, medication: MedicationInfo) -> bool:
        if self.rxnorm & set(medication.rxnorm) or self.atc & {c.upper() for c in medication.atc}:
            return True
        text = " ".join(medication.texts)
        words = set(re.findall(r"[a-z]+", text.lower()))
        return any(
            _abbreviation(name).search(text) is not None if name.isupper() else name.lower() in words
            for name in self.names
        )

    def product_route(self, medication: MedicationInfo) -> tuple[str, str] | None:
        """The route the product itself gives, and what says so: its RxNorm code by the content's note (an
        oral tablet; an injection, which for naltrexone is the intramuscular extended-release suspension),
        else its names and dose form (a tablet or capsule; an injection; a transdermal, topical or sublingual
        form). ``None`` when neither says, or they disagree."""
        found = {("oral", "an oral tablet") for code in medication.rxnorm if code in self.oral_tablets}
        found |= {
            ("intramuscular", "an injection, given intramuscularly")
            for code in medication.rxnorm
            if code in self.injections
        }
        if not found:
            words = set(re.findall(r"[a-z]+", " ".join((*medication.texts, *medication.form)).lower()))
            if words & _ORAL_FORMS:
                found.add(("oral", "a tablet or capsule"))
            if words & _INJECTED_FORMS:
                found.add(("intramuscular", "an injection, given intramuscularly"))
            other = next((route for word, route in _OTHER_FORMS.items() if word in words), None)
            if other is not None:  # the first form named decides (a transdermal cream is transdermal)
                found.add((other, f"a {other} product"))
        return found.pop() if len({route for route, _ in found}) == 1 else None

    def strength(self, medication: MedicationInfo) -> tuple[Decimal, str] | None:
        """mg per unit (tablet, injection) from the order's RxNorm code, or the Medication's own strength;
        ``None`` when neither gives one, or when they give different ones (which the order does not say)."""
        coded = {self.strengths[code] for code in medication.rxnorm if code in self.strengths}
        stated = medication.strength_mg
        if len({mg for mg, _ in coded} | ({stated} if stated is not None else set())) > 1:
            return None
        if coded:
            return min(coded)
        if stated is not None:
            return stated, STATED_BY_MEDICATION
        return None


_PRODUCT: Final = re.compile(r"(\d+(?:\.\d+)?) MG (Oral Tablet|Injection)\b", re.IGNORECASE)


def naltrexone_from_drug(drug: Mapping[str, Any]) -> Naltrexone:
    """From the drug record: RxNorm and ATC identifiers, name and synonyms, product strengths in RxNorm notes."""
    rxnorm, atc, strengths, tablets, injections = set(), set(), {}, set(), set()
    for identifier in _list(drug.get("identifiers")):
        system, value, note = identifier.get("system"), str(identifier.get("value")), identifier.get("note") or ""
        if system == "rxnorm":
            rxnorm.add(value)
            product = _PRODUCT.search(note)
            if product:
                status = identifier.get("verification") or "status not given"
                strengths[value] = (Decimal(product.group(1)), f"RxNorm {value}, {status}: {note}")
                if product.group(2).lower() == "oral tablet":
                    tablets.add(value)
                else:
                    injections.add(value)
        elif system == "atc":
            atc.add(value.upper())
    names = [n for n in [drug.get("name"), *_list(drug.get("synonyms"))] if isinstance(n, str) and n]
    for regimen in _list(drug.get("regimens")):  # "Low-dose naltrexone (LDN)": an order for "LDN" is naltrexone
        names += _REGIMEN_ABBREVIATION.findall(_str(_dict(regimen).get("name")))
    return Naltrexone(
        frozenset(rxnorm),
        frozenset(atc),
        tuple(dict.fromkeys(names)),
        strengths,
        frozenset(tablets),
        frozenset(injections),
    )


_ORAL_FORMS: Final = frozenset({"tablet", "tablets", "tab", "capsule", "capsules", "cap", "oral"})
_INJECTED_FORMS: Final = frozenset({"injection", "injectable", "intramuscular"})
_OTHER_FORMS: Final = {
    "transdermal": "transdermal",
    "patch": "transdermal",
    "cream": "topical",
    "gel": "topical",
    "ointment": "topical",
    "topical": "topical",
    "sublingual": "sublingual",
}
"""A product form that gives another route than oral or intramuscular: no naltrexone range is for it."""


@lru_cache(maxsize=64)
def _abbreviation(name: str) -> re.Pattern[str]:
    """``LDN`` as a word of its own: not in ``LDN-193189``, a research compound's code."""
    return re.compile(rf"(?<![A-Za-z0-9-]){re.escape(name)}(?![A-Za-z0-9]|-[0-9])", re.IGNORECASE)


_REGIMEN_ABBREVIATION: Final = re.compile(r"\(([A-Za-z]{2,12})\)")
"""The one word in brackets after a regimen's name (LDN, VLDN, ULDN, Vivitrol): what orders call it."""
