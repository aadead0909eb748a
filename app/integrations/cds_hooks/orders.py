"""Reading MedicationRequests out of a CDS Hooks request (pure: dicts in, dataclasses out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.opioids import OpioidFinding, find_opioid

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"

# timing.repeat (frequency per period periodUnit) -> the dose-check frequency vocabulary.
_REPEAT: dict[tuple[int, Decimal, str], str] = {
    (1, Decimal(1), "d"): "daily",
    (2, Decimal(1), "d"): "twice daily",
    (1, Decimal(2), "d"): "every other day",
    (1, Decimal(3), "d"): "every third day",
    (1, Decimal(1), "wk"): "weekly",
    (1, Decimal(7), "d"): "weekly",
    (1, Decimal(4), "wk"): "every 4 weeks",
    (1, Decimal(28), "d"): "every 4 weeks",
    (1, Decimal(1), "mo"): "monthly",
}
_TIMING_TEXT = {
    "qd": "daily",
    "daily": "daily",
    "once daily": "daily",
    "nightly": "daily",
    "at bedtime": "daily",
    "qhs": "daily",
    "hs": "daily",
    "bid": "twice daily",
    "twice daily": "twice daily",
    "qod": "every other day",
    "every other day": "every other day",
    "weekly": "weekly",
    "monthly": "monthly",
    "every 4 weeks": "every 4 weeks",
    "once": "once",
}


@dataclass(frozen=True, slots=True)
class OrderDose:
    amount: Decimal | None
    unit: str | None
    frequency: str | None
    route: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class DraftMedication:
    resource_id: str
    name: str
    rxnorm: tuple[str, ...]
    atc: tuple[str, ...]
    texts: tuple[str, ...]
    dose: OrderDose


def _concept(resource: dict[str, Any]) -> dict[str, Any]:
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        return concept
    contained = resource.get("contained") or []
    medication = next((c for c in contained if isinstance(c, dict) and c.get("resourceType") == "Medication"), None)
    code = (medication or {}).get("code")
    return code if isinstance(code, dict) else {}


def _dose(resource: dict[str, Any]) -> OrderDose:
    instructions = resource.get("dosageInstruction") or []
    first = instructions[0] if instructions and isinstance(instructions[0], dict) else {}
    amount: Decimal | None = None
    unit: str | None = None
    for dose_and_rate in first.get("doseAndRate") or []:
        quantity = (dose_and_rate or {}).get("doseQuantity")
        if isinstance(quantity, dict) and quantity.get("value") is not None:
            try:
                amount = Decimal(str(quantity["value"]))
            except InvalidOperation:
                amount = None
            unit = quantity.get("code") or quantity.get("unit")
            break
    frequency: str | None = None
    timing = first.get("timing") or {}
    repeat = timing.get("repeat") or {}
    if repeat:
        try:
            key = (
                int(repeat.get("frequency", 1)),
                Decimal(str(repeat.get("period", 1))),
                str(repeat.get("periodUnit", "")),
            )
            frequency = _REPEAT.get(key)
        except (InvalidOperation, ValueError, TypeError):
            frequency = None
        if repeat.get("count") == 1 and frequency is None:
            frequency = "once"
    if frequency is None:
        code_text = ((timing.get("code") or {}).get("text") or "").strip().lower()
        frequency = _TIMING_TEXT.get(code_text)
    route_concept = first.get("route") or {}
    route_text = " ".join(
        [str(route_concept.get("text") or "")]
        + [str(c.get("display") or "") for c in route_concept.get("coding") or []]
    ).lower()
    route = None
    if "intramuscular" in route_text or route_text.strip() == "im":
        route = "intramuscular"
    elif "oral" in route_text or "mouth" in route_text:
        route = "oral"
    return OrderDose(amount=amount, unit=unit, frequency=frequency, route=route, text=first.get("text"))


def medication_requests(draft_orders: Any) -> list[DraftMedication]:
    """Every MedicationRequest in a Bundle (``context.draftOrders`` or a prefetch Bundle)."""
    if not isinstance(draft_orders, dict):
        return []
    out: list[DraftMedication] = []
    for entry in draft_orders.get("entry") or []:
        resource = (entry or {}).get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "MedicationRequest":
            continue
        concept = _concept(resource)
        codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
        texts = [str(concept.get("text") or "")] + [str(c.get("display") or "") for c in codings]
        texts = [t for t in texts if t]
        out.append(
            DraftMedication(
                resource_id=f"MedicationRequest/{resource.get('id', '')}",
                name=texts[0] if texts else "medication",
                rxnorm=tuple(str(c.get("code")) for c in codings if c.get("system") == RXNORM and c.get("code")),
                atc=tuple(str(c.get("code")) for c in codings if c.get("system") == ATC and c.get("code")),
                texts=tuple(texts),
                dose=_dose(resource),
            )
        )
    return out


def is_naltrexone(medication: DraftMedication, rxnorm_codes: Iterable[str], names: Iterable[str]) -> bool:
    """By an RxNorm code from the content, or by the ingredient name."""
    codes = set(rxnorm_codes)
    if codes & set(medication.rxnorm):
        return True
    lowered = " ".join(medication.texts).lower()
    return any(name.lower() in lowered for name in names)


def opioid_in(medication: DraftMedication) -> OpioidFinding | None:
    return find_opioid(list(medication.atc), list(medication.texts))
