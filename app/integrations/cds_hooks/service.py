"""One CDS service call: gather the orders and medication lists, fill the gaps, decide, and write the cards.

The steps, each small:

1. :func:`gather`: the draft orders, the selected ones (order-select), the prefetched active medications
   (MedicationRequest and MedicationStatement Bundles; ``null`` means "none"), and the Medications the
   request carries, every reference resolved that can be;
2. :func:`fill_gaps` (async): what is still missing (a referenced Medication, the active list when no
   prefetch came) read from ``fhirServer`` with the request's bearer token, bounded in time;
3. :func:`decide`: naltrexone and opioids recognised in every direction (either one being ordered while
   the other is drafted or active), the dose of each naltrexone order checked by the domain, and what could
   not be checked said, never left out. One card per finding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Final

from app.domain.dosing import DoseInputError, concurrent_schedule, parse_dose, parse_schedule
from app.domain.opioids import OpioidFinding, classify
from app.integrations.cds_hooks import fhir_client
from app.integrations.cds_hooks.cards import (
    DoseDecision,
    OpioidConflict,
    card_id,
    dose_card,
    fit,
    not_checked_card,
    opioid_card,
)
from app.integrations.cds_hooks.dosage import DoseReading, read_dosage
from app.integrations.cds_hooks.medications import (
    ORDER_TYPES,
    Entry,
    Naltrexone,
    bundle_resources,
    medication_index,
    read_entries,
    reference_id,
    resolve,
    with_display_only,
)
from app.integrations.cds_hooks.patient import PATIENT_KEY, PatientPopulation, patient_population
from app.services.dose_check import DoseRequest

ACTIVE_KEY: Final = "activeMedications"
STATEMENTS_KEY: Final = "activeStatements"
_SEVERITY: Final = {"critical": 0, "warning": 1, "info": 2}
_FIELD_PROBLEMS: Final = {
    "amount": "the dose amount is outside what can be assessed",
    "unit": "the dose unit is not a unit of mass the reference uses",
    "frequency": "how often it is given could not be read",
    "route": "the route could not be read",
    "weight_kg": "the dose depends on body weight, which the order does not give",
}

DoseCheck = Callable[[DoseRequest], dict[str, Any]]


@dataclass(slots=True)
class Gathered:
    drafts: list[Entry]
    active: list[Entry]
    selected: set[str]
    """Keys of the orders this call is about (order-select's selections; every draft for order-sign)."""
    active_read: bool
    """Whether the active medication list was available (prefetch or FHIR server)."""
    active_note: str | None = None
    index: dict[str, dict[str, Any]] = field(default_factory=dict)
    patient: PatientPopulation | None = None
    """Who the orders are for, from the prefetched Patient (``None``: not read, as for a bare call)."""


_LISTS: Final = {ACTIVE_KEY: "MedicationRequests", STATEMENTS_KEY: "MedicationStatements"}
"""The two active lists discovery asks for, by prefetch key, and what each holds."""


def _prefetch_bundles(prefetch: Mapping[str, Any] | None) -> tuple[list[Any], bool, str | None]:
    """The prefetched Bundles, whether the active list came, and what is missing from it, in words: a list
    that did not come (or came as an OperationOutcome), more pages or a larger total than were sent,
    entries that cannot be read. A list that came in part is never taken for the whole list."""
    if not prefetch:
        return [], False, "the EHR sent no active medication list"
    bundles: list[Any] = []
    read = False
    failed = False
    gaps: list[str] = []
    for key, value in prefetch.items():
        if key == PATIENT_KEY:
            continue
        if value is None:
            read = read or key == ACTIVE_KEY  # the client's "no data": an empty list
            continue
        if not isinstance(value, dict):
            continue
        kind = value.get("resourceType")
        if kind == "OperationOutcome":
            failed = failed or key in _LISTS
            if key in _LISTS:
                gaps.append(f"the EHR could not fetch the active {_LISTS[key]}")
            continue
        bundles.append(value)
        has_orders = any(r.get("resourceType") in ORDER_TYPES for r in bundle_resources(value))
        if (key == ACTIVE_KEY and kind == "Bundle") or has_orders:
            read = True
        if key in _LISTS and kind == "Bundle":
            gaps += _bundle_gaps(value, _LISTS[key])
    if read:
        gaps += [f"the EHR sent no active {name}" for key, name in _LISTS.items() if key not in prefetch]
        return bundles, True, "; ".join(dict.fromkeys(gaps)) or None
    why = "the EHR could not fetch the active medication list" if failed else "the EHR sent no active medication list"
    return bundles, False, why


def _bundle_gaps(bundle: Mapping[str, Any], name: str) -> list[str]:
    """What a prefetched list Bundle says it left out: more pages, a larger total, entries not readable."""
    entry, link = bundle.get("entry"), bundle.get("link")
    entries: list[Any] = entry if isinstance(entry, list) else []
    links: list[Any] = link if isinstance(link, list) else []
    gaps = []
    if any(isinstance(link, dict) and link.get("relation") == "next" for link in links):
        gaps.append(f"the active {name} came with more pages than were sent")
    total = bundle.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > len(entries):
        gaps.append(f"the active {name} list gives a total of {total} but holds {len(entries)}")
    unreadable = len(
        [
            item
            for item in entries
            if not isinstance(item, dict)
            or not isinstance(item.get("resource"), dict)
            or item["resource"].get("resourceType") == "OperationOutcome"
        ]
    )
    if unreadable:
        gaps.append(f"{unreadable} {'entry' if unreadable == 1 else 'entries'} of the active {name} could not be read")
    return gaps


def gather(
    hook: str, context: Mapping[str, Any], prefetch: Mapping[str, Any] | None, *, today: date | None = None
) -> Gathered:
    """Everything the request itself carries, references resolved from its own Bundles, and who the patient
    is (adult, child or not known) on ``today`` (default: today in UTC)."""
    draft_bundle = context.get("draftOrders")
    drafts = read_entries(draft_bundle, "draft", where="draft orders")
    bundles, active_read, why = _prefetch_bundles(prefetch if isinstance(prefetch, Mapping) else None)
    active: list[Entry] = []
    for bundle in bundles:
        active += read_entries(bundle, "active", where="prefetch")
    index = medication_index([draft_bundle, *bundles])
    drafts = [resolve(e, index) for e in drafts]
    active = [resolve(e, index) for e in active]
    selections = context.get("selections")
    keys = {e.key for e in drafts}
    if hook == "order-select" and isinstance(selections, list) and selections:
        chosen = {s for s in selections if isinstance(s, str)}
        selected = {
            e.key
            for e in drafts
            if e.key in chosen or (e.resource_id is not None and e.resource_id in chosen) or e.full_url in chosen
        }
        selected = selected or keys  # selections that match no draft: judge every draft
    else:
        selected = keys
    patient = patient_population(prefetch, today or datetime.now(UTC).date(), context.get("patientId"))
    return Gathered(drafts, active, selected, active_read, why, index, patient)


async def fill_gaps(
    gathered: Gathered,
    fhir: fhir_client.FhirAccess | None,
    *,
    patient_id: Any,
) -> Gathered:
    """Referenced Medications and (without a prefetch) the active list, read from the FHIR server."""
    unresolved = [e for e in (*gathered.drafts, *gathered.active) if e.medication is None and e.reference]
    if fhir is None or (not unresolved and gathered.active_read):
        return gathered
    started = time.monotonic()
    ids = [i for i in (reference_id(e.reference or "") for e in unresolved) if i]
    reads = await fhir_client.read(
        fhir, ids, patient_id=patient_id if isinstance(patient_id, str) else None, want_active=not gathered.active_read
    )
    index = {**gathered.index, **reads.medications}
    active = list(gathered.active)
    active_read, note = gathered.active_read, gathered.active_note
    if reads.active is not None:
        for bundle in reads.active:
            active += read_entries(bundle, "active", where="FHIR server")
        index.update(medication_index(reads.active))
        active_read = True
        note = None if reads.active_complete else "the FHIR server returned more active medications than were read"
    elif not gathered.active_read:
        note = "the active medication list could not be read from the EHR's FHIR server"
    drafts = [resolve(e, index) for e in gathered.drafts]
    active = [resolve(e, index) for e in active]
    # The active list read from the server may refer to Medications of its own: one more bounded round.
    asked = set(ids)
    more = [i for i in (reference_id(e.reference or "") for e in active if e.medication is None and e.reference) if i]
    more = [i for i in dict.fromkeys(more) if i not in asked]
    remaining = fhir.timeout - (time.monotonic() - started)
    if more and remaining > 0.2:
        second = await fhir_client.read(replace(fhir, timeout=remaining), more, patient_id=None, want_active=False)
        index.update(second.medications)
        active = [resolve(e, index) for e in active]
    return replace(
        gathered,
        drafts=drafts,
        active=active,
        active_read=active_read,
        active_note=note,
        index=index,
    )


# --------------------------------------------------------------------------------------------------
# Deciding


@dataclass(frozen=True, slots=True)
class _Classified:
    entry: Entry
    kind: str  # naltrexone | opioid | other | unknown
    finding: OpioidFinding | None = None
    why: str | None = None
    named: bool = False
    """An unknown medication with a name the reference does not recognise as an opioid (not a missing one)."""


def _unknown_why(entry: Entry, *, fhir_unread: str | None, unrecognised: bool = False) -> str:
    if unrecognised:
        return (
            "its name is not recognised: it names no opioid ingredient or brand the reference lists and carries "
            "no ATC code, and a brand the reference does not list cannot be ruled out"
        )
    if entry.medication is None and (entry.reference or "").startswith("#"):
        return f"it refers to a contained Medication ({entry.reference}) that the order does not contain"
    if entry.medication is None and entry.reference:
        where = fhir_unread or "could not be read from the EHR's FHIR server"
        return f"it refers to {entry.reference}, which is not in the request and {where}"
    if entry.medication is None:
        return "its medication could not be read from the order"
    if entry.medication.rxnorm or entry.medication.atc or entry.medication.other_codes:
        return "it carries only a code, which the reference cannot classify"
    return "its medication could not be read from the order (it carries no name and no code)"


def _classify(entry: Entry, naltrexone: Naltrexone, *, fhir_unread: str | None) -> _Classified:
    entry = with_display_only(entry)
    medication = entry.medication
    if medication is None:
        return _Classified(entry, "unknown", why=_unknown_why(entry, fhir_unread=fhir_unread))
    check = classify(medication.atc, medication.texts, name=medication.label)
    if check.status == "opioid":  # a product with an opioid in it is an opioid, even beside naltrexone
        return _Classified(entry, "opioid", finding=check.finding)
    if naltrexone.matches(medication):
        return _Classified(entry, "naltrexone")
    if medication.unread_ingredients:  # what it contains is not known: never "not an opioid"
        refs = ", ".join(medication.unread_ingredients)
        return _Classified(
            entry, "unknown", why=f"an ingredient is given only by a reference that was not read ({refs})"
        )
    if check.status in ("unknown", "unrecognised"):
        why = _unknown_why(entry, fhir_unread=fhir_unread, unrecognised=check.status == "unrecognised")
        return _Classified(entry, "unknown", why=why, named=check.status == "unrecognised")
    return _Classified(entry, "other")


def _identity(entry: Entry) -> tuple[str, Any, Any]:
    return (entry.key, entry.medication, entry.reference)


def _dedupe(entries: Sequence[Entry], seen: set[tuple[str, Any, Any]] | None = None) -> list[Entry]:
    """Entries without repeats: the same id for the same medication (an EHR may list a draft again in the
    active list). Two different medications under one id are both kept: a repeat never hides an opioid."""
    seen = set() if seen is None else seen
    out = []
    for entry in entries:
        identity = _identity(entry)
        if identity in seen:
            continue
        seen.add(identity)
        out.append(entry)
    return out


MAX_DOSAGE_LINES: Final = 5


def _line_decision(
    entry: Entry, dosage: dict[str, Any], strength: Any, check: DoseCheck, *, product_route: tuple[str, str] | None
) -> DoseDecision:
    reading = read_dosage(dosage, strength)
    if reading.route is None and product_route is not None:
        reading.route = product_route[0]
        reading.notes.append(f"route taken from the product ({product_route[1]})")
    elif reading.route is not None and product_route is not None and reading.route != product_route[0]:
        disagree = f"the order's route ({reading.route}) differs from its product's ({product_route[1]})"
        reading.notes.append(disagree)
        reading.leave_open(disagree)
    if reading.problem is not None or reading.amount is None:
        return DoseDecision(entry, reading, None, reading.problem)
    request = DoseRequest(amount=reading.amount, unit=reading.unit, frequency=reading.frequency, route=reading.route)
    try:
        answer = check(request)
    except DoseInputError as exc:
        return DoseDecision(entry, reading, None, _FIELD_PROBLEMS.get(exc.field, "the dose could not be assessed"))
    return DoseDecision(entry, reading, _never_reassuring(answer, reading.uncertain))


def _never_reassuring(answer: dict[str, Any], uncertain: str | None) -> dict[str, Any]:
    """The answer, a warning that says so when the order left something open (a copy: answers are shared)."""
    if uncertain is None:
        return answer
    indicator = "warning" if answer.get("indicator") == "info" else answer.get("indicator")
    summary = f"Naltrexone {answer.get('dose_text')}: {uncertain}, so not assessed in full"
    return {**answer, "indicator": indicator, "summary": fit(summary)}


def _with_other_orders(decision: DoseDecision, naltrexone_all: Sequence[_Classified]) -> DoseDecision:
    """The decision, never reassuring and naming them, when the patient has other naltrexone orders open in
    this call (two of 100 mg daily are 200 mg a day, which no checked source gives): their total is not
    assessed."""
    order = decision.order
    same = {order.key, *order.replaces}  # the prescription this order renews is not another one
    others: list[Entry] = []
    for entry in (c.entry for c in naltrexone_all):
        if entry is order or entry.key in same or same & set(entry.replaces):
            continue
        if any(o.key in entry.replaces or entry.key in o.replaces for o in others):
            continue  # a statement recorded from an order already named: one prescription
        others.append(entry)
    if not others:
        return decision
    named = tuple(f"{e.name} ({'active' if e.origin == 'active' else 'draft order'} {e.key})" for e in others)
    answer = decision.answer
    if answer is not None:
        answer = _never_reassuring(answer, "another naltrexone order is open")
    return replace(decision, answer=answer, other_orders=named)


def _severity(decision: DoseDecision) -> int:
    if decision.answer is None:
        return _SEVERITY["warning"]
    return _SEVERITY.get(str(decision.answer.get("indicator")), _SEVERITY["warning"])


def _together(numbers: Sequence[int]) -> str:
    named = [str(n) for n in numbers]
    return "lines " + ", ".join(named[:-1]) + " and " + named[-1]


ONE_SEQUENCE: Final = "are taken together (one sequence)"
NO_SEQUENCE: Final = "give no sequence; if taken together"


def _concurrent_decision(
    entry: Entry,
    numbers: Sequence[int],
    decisions: Sequence[DoseDecision],
    check: DoseCheck,
    *,
    together: str = ONE_SEQUENCE,
) -> DoseDecision:
    """Dosage lines that share a ``sequence`` are taken at the same time (FHIR R4 Dosage.sequence): their
    total is the dose assessed, never each line alone. What cannot be added up is said, not assessed.
    ``together`` says why they are added up (:data:`ONE_SEQUENCE`, or :data:`NO_SEQUENCE`: one reading of
    lines whose order does not say)."""
    label = _together(numbers)
    for n, decision in zip(numbers, decisions, strict=True):
        if decision.answer is None or decision.reading.amount is None:
            why = decision.problem or decision.reading.problem or "its dose could not be read"
            return DoseDecision(entry, decision.reading, None, f"{label} {together}, and line {n}: {why}")
    readings = [d.reading for d in decisions]
    try:
        doses = [parse_dose(r.amount or 0, r.unit or "", r.frequency or "", r.route) for r in readings]
        schedule = concurrent_schedule(doses)
        route = next((d.route for d in doses if d.route is not None), None)
        total = parse_schedule(schedule, route=route).mg_per_day
        answer = check(DoseRequest(None, None, None, route=route, schedule=schedule))
    except DoseInputError as exc:
        return DoseDecision(entry, readings[0], None, f"{label} {together}: not assessed, {exc.message}")
    notes = [f"{label} {together}: assessed as one dose, {total:f} mg a day in all"]
    notes += [note for r in readings for note in r.notes]
    uncertain = next((r.uncertain for r in readings if r.uncertain), None)
    reading = DoseReading(route=route, notes=list(dict.fromkeys(notes)), uncertain=uncertain)
    return DoseDecision(entry, reading, _never_reassuring(answer, uncertain))


def _sequence(dosage: dict[str, Any]) -> int | None:
    """A line's ``sequence`` (an integer; ``1.0`` is 1), or ``None`` when it gives none it can be read by."""
    sequence = dosage.get("sequence")
    if isinstance(sequence, bool):
        return None
    if isinstance(sequence, int):
        return sequence
    if isinstance(sequence, float) and sequence.is_integer():
        return int(sequence)
    return None


def _sequence_groups(dosages: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Line indexes grouped by ``sequence``, in order of first appearance; a line without one stands alone."""
    groups: dict[object, list[int]] = {}
    for n, dosage in enumerate(dosages):
        sequence = _sequence(dosage)
        groups.setdefault(("line", n) if sequence is None else sequence, []).append(n)
    return list(groups.values())


def _unsequenced_steps(entry: Entry, each: Sequence[DoseDecision], check: DoseCheck) -> list[tuple[str, DoseDecision]]:
    """Assessed lines with no sequence (or one that is not an integer): the order does not say whether they
    are taken together or one after another, nor with which sequenced step. Each reading in which they are
    taken together (with each other, or with each sequenced step) is a step of its own beside the lines
    alone (the most severe leads). Readings with a line not assessed are left out (that line's step says so)."""
    dosages = entry.dosages[: len(each)]
    loose = [n for n, dosage in enumerate(dosages) if _sequence(dosage) is None]
    if not loose or len(dosages) < 2:
        return []
    sequenced: dict[int, list[int]] = {}
    for n, dosage in enumerate(dosages):
        sequence = _sequence(dosage)
        if sequence is not None:
            sequenced.setdefault(sequence, []).append(n)
    readings = [sorted([*group, *loose]) for group in sequenced.values()] or [loose]
    steps = []
    for lines in readings:
        if len(lines) < 2 or any(each[n].answer is None for n in lines):
            continue
        numbers = [n + 1 for n in lines]
        decision = _concurrent_decision(entry, numbers, [each[n] for n in lines], check, together=NO_SEQUENCE)
        steps.append((f"{_together(numbers)}, if taken together", decision))
    return steps


def _dose_decision(entry: Entry, naltrexone: Naltrexone, check: DoseCheck) -> DoseDecision:
    """The decision for an order. Lines that share a sequence are taken together and judged by their total;
    with several such steps (a titration), the most severe one leads and the others are listed by their
    summaries."""
    strength = naltrexone.strength(entry.medication) if entry.medication else None
    product_route = naltrexone.product_route(entry.medication) if entry.medication else None
    lines = entry.dosages[:MAX_DOSAGE_LINES] or ({},)
    each = [_line_decision(entry, dosage, strength, check, product_route=product_route) for dosage in lines]
    steps: list[tuple[str, DoseDecision]] = []  # (which lines, the decision about them)
    for group in _sequence_groups(entry.dosages) or [[0]]:  # no dosage at all: one empty line, said as such
        if group[0] >= len(lines):
            continue  # past the lines assessed: counted below
        if group[-1] >= len(lines):  # taken with lines past those assessed: its total cannot be known
            numbers = [n + 1 for n in group]
            why = f"{_together(numbers)} are taken together (one sequence), and only {len(lines)} lines are assessed"
            steps.append(
                (f"{_together(numbers)}, taken together", DoseDecision(entry, each[group[0]].reading, None, why))
            )
            continue
        if len(group) == 1:
            steps.append((f"line {group[0] + 1}", each[group[0]]))
        else:
            numbers = [n + 1 for n in group]
            decision = _concurrent_decision(entry, numbers, [each[n] for n in group], check)
            steps.append((f"{_together(numbers)}, taken together", decision))
    readings = _unsequenced_steps(entry, each, check)
    steps += readings
    if len(steps) == 1 and len(entry.dosages) <= MAX_DOSAGE_LINES:
        return steps[0][1]
    # The most severe step leads; on a tie a together reading (the larger dose) leads, the first of them.
    together = {id(decision) for _, decision in readings}
    lead = min(range(len(steps)), key=lambda n: (_severity(steps[n][1]), id(steps[n][1]) not in together, n))
    if readings and id(steps[lead][1]) not in together:
        lead_decision = steps[lead][1]  # what the together readings found goes with the card, whichever leads
        said = [
            d.reading.notes[0] if d.answer is not None and d.reading.notes else d.problem or "" for _, d in readings
        ]
        reading = replace(lead_decision.reading, notes=[*said, *lead_decision.reading.notes])
        steps[lead] = (steps[lead][0], replace(lead_decision, reading=reading))
    others = []
    for n, (label, decision) in enumerate(steps):
        if n == lead:
            continue
        if decision.answer is None:
            others.append(f"{label}: not assessed ({decision.problem})")
        else:
            others.append(f"{label}: {decision.answer.get('summary')}")
    if len(entry.dosages) > MAX_DOSAGE_LINES:
        others.append(f"{len(entry.dosages) - MAX_DOSAGE_LINES} more dosage lines were not assessed")
    return replace(steps[lead][1], other_lines=tuple(others), line=steps[lead][0])


def decide(
    gathered: Gathered,
    naltrexone: Naltrexone,
    contraindications: Sequence[dict[str, Any]],
    check: DoseCheck,
    *,
    regimens: Mapping[str, dict[str, Any]],
    label_warnings: Sequence[str] = (),
    hook_instance: str,
    base_url: str,
    fhir_unread: str | None,
) -> list[dict[str, Any]]:
    """The cards: one per naltrexone order's dose, one for an opioid conflict, one for what was not checked."""
    seen: set[tuple[str, Any, Any]] = set()
    drafts = _dedupe(gathered.drafts, seen)
    active = _dedupe(gathered.active, seen)
    classified = [_classify(e, naltrexone, fhir_unread=fhir_unread) for e in (*drafts, *active)]
    selected = gathered.selected

    def is_selected(c: _Classified) -> bool:
        return c.entry.origin == "draft" and c.entry.key in selected

    naltrexone_all = [c for c in classified if c.kind == "naltrexone"]
    opioid_all = [c for c in classified if c.kind == "opioid"]
    naltrexone_selected = [c for c in naltrexone_all if is_selected(c)]
    opioid_selected = [c for c in opioid_all if is_selected(c)]
    cards: list[dict[str, Any]] = []

    # 1. The opioid contraindication, in either direction: one card.
    naltrexone_side = naltrexone_all if opioid_selected else naltrexone_selected
    opioid_side = opioid_all if naltrexone_selected else opioid_selected
    if naltrexone_side and opioid_side:
        conflict = OpioidConflict(
            tuple(c.entry for c in naltrexone_side),
            tuple((c.entry, c.finding) for c in opioid_side if c.finding is not None),
        )
        cards.append(opioid_card(conflict, contraindications, hook_instance=hook_instance, base_url=base_url))

    # 2. The dose of each naltrexone order this call is about, for the patient's population when known.
    patient = gathered.patient
    population = None if patient is None else patient.population
    unsure = None if patient is None else patient.uncertain

    def check_for(request: DoseRequest) -> dict[str, Any]:
        answer = check(request if population is None else replace(request, population=population))
        return answer if unsure is None else _never_reassuring(answer, unsure)

    for c in naltrexone_selected:
        decision = _with_other_orders(_dose_decision(c.entry, naltrexone, check_for), naltrexone_all)
        cards.append(
            dose_card(
                decision,
                regimens=regimens,
                hook_instance=hook_instance,
                base_url=base_url,
                label_warnings=label_warnings,
                patient_note=None if patient is None else patient.note,
            )
        )

    # 3. What could not be checked, when it matters to naltrexone.
    items: list[tuple[str, str]] = []
    unknown = [c for c in classified if c.kind == "unknown"]
    if naltrexone_selected:  # any of them might be an opioid
        relevant = unknown
    elif opioid_selected:  # any of them might be naltrexone; a name not recognised as an opioid says nothing of it
        relevant = [c for c in unknown if not c.named]
    elif naltrexone_all:  # a drafted order not recognised may be an opioid
        relevant = [c for c in unknown if is_selected(c)]
    elif opioid_all:  # a drafted order not read may be naltrexone; a name that is not naltrexone's is not
        relevant = [c for c in unknown if is_selected(c) and not c.named]
    else:  # naltrexone nowhere: only a drafted order whose medication could not be read at all
        relevant = [c for c in unknown if is_selected(c) and c.entry.medication is None]
    for c in relevant:
        where = "draft order" if c.entry.origin == "draft" else "active medication"
        items.append((f"{c.entry.name} ({where} {c.entry.key})", c.why or "it could not be classified"))
    list_missing = not gathered.active_read or gathered.active_note is not None
    if list_missing and (naltrexone_selected or opioid_selected):
        why = gathered.active_note or "it was not available"
        if not gathered.active_read and fhir_unread:
            why = f"{why}, and {fhir_unread}"
        items.append(("The patient's active medications", why))
    if items:
        only_list = len(items) == 1 and items[0][0] == "The patient's active medications"
        partial = only_list and gathered.active_read
        cards.append(
            not_checked_card(
                items, hook_instance=hook_instance, base_url=base_url, only_list=only_list, partial=partial
            )
        )
    cards.sort(key=lambda card: _SEVERITY.get(card["indicator"], 3))
    return _unique_ids(cards)


def _unique_ids(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for n, card in enumerate(cards):
        if card["uuid"] in seen:  # two orders sharing one id: keep every card addressable
            card["uuid"] = card_id(card["uuid"], "duplicate", str(n))
        seen.add(card["uuid"])
    return cards
