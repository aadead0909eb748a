"""Who the order is for: the patient's population (adults or children) from the prefetched Patient.

FHIR R4 ``Patient.birthDate`` is a ``date``: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``. A partial date gives
the earliest and the latest day the patient can have been born; the patient is an adult when even the
latest of them is :data:`ADULT_AGE_YEARS` years ago, a child when even the earliest is less, and otherwise
(or without a birth date) not known, which the card says: the dose is then judged as the dose check judges
a dose whose population is not given.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from app.services.knowledge import ADULT_AGE_YEARS

PATIENT_KEY: Final = "patient"
"""The prefetch key of the Patient (discovery asks for ``Patient/{{context.patientId}}``)."""

_BIRTH_DATE: Final = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_ADULT_YEARS: Final = int(ADULT_AGE_YEARS)


@dataclass(frozen=True, slots=True)
class PatientPopulation:
    """``population`` (``adults``, ``children`` or ``None``: not known) and ``note``, in words for the card.
    ``uncertain``: the EHR sent a Patient whose age cannot be known from it (a birth date that is not a
    FHIR date, or after today; another patient's record): the dose is then never reassuring, and this says
    why."""

    population: str | None
    note: str
    uncertain: str | None = None


def _the_patient(value: Any) -> dict[str, Any] | None:
    """The Patient resource itself, or the one Patient of a Bundle."""
    if not isinstance(value, dict):
        return None
    if value.get("resourceType") == "Patient":
        return value
    entries = value.get("entry") if value.get("resourceType") == "Bundle" else None
    found = [
        item["resource"]
        for item in (entries if isinstance(entries, list) else [])
        if isinstance(item, dict)
        and isinstance(item.get("resource"), dict)
        and item["resource"].get("resourceType") == "Patient"
    ]
    return found[0] if len(found) == 1 else None


def _birth_span(text: str) -> tuple[date, date] | None:
    """The earliest and the latest possible birth day of a FHIR ``date``, or ``None`` when it is not one."""
    match = _BIRTH_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        last = calendar.monthrange(year, month)[1]
        if day is None:
            return date(year, month, 1), date(year, month, last)
        born = date(year, month, day)
    except ValueError:  # month 13, 30 February, year 0
        return None
    return born, born


def _birthday(born: date, years: int) -> date:
    """The day ``born`` turns ``years`` old (29 February: 1 March in a common year)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def patient_population(prefetch: Any, today: date, patient_id: Any = None) -> PatientPopulation:
    """The population of the prefetched Patient on ``today`` (see the module). A Patient whose id is not
    the call's ``patient_id`` is another patient's record: not read, and never reassuring."""
    patient = _the_patient(prefetch.get(PATIENT_KEY) if isinstance(prefetch, dict) else None)
    if patient is None:
        return PatientPopulation(
            None,
            "the patient's age was not given (no Patient in the prefetch), so children's dosing was not considered",
        )
    found_id = patient.get("id")
    if isinstance(patient_id, str) and isinstance(found_id, str) and found_id != patient_id:
        why = f"the prefetched Patient ({found_id}) is not this call's patient ({patient_id})"
        return PatientPopulation(None, f"{why}, so the patient's age is not known", uncertain=why)
    birth = patient.get("birthDate")
    if birth is None:
        return PatientPopulation(
            None, "the patient's birth date was not given, so children's dosing was not considered"
        )
    span = _birth_span(birth) if isinstance(birth, str) else None
    if span is None:
        why = "the patient's birth date is not readable"
        return PatientPopulation(None, f"{why} ({birth!r}), so the patient's age is not known", uncertain=why)
    earliest, latest = span
    if earliest > today:
        why = f"the patient's birth date ({birth}) is after today"
        return PatientPopulation(None, f"{why}, so the patient's age is not known", uncertain=why)
    if _birthday(latest, _ADULT_YEARS) <= today:
        return PatientPopulation("adults", f"the patient is an adult (born {birth})")
    if _birthday(earliest, _ADULT_YEARS) > today:
        return PatientPopulation(
            "children", f"the patient is a child (born {birth}): only a range for children documents the dose"
        )
    return PatientPopulation(
        None,
        f"the patient's birth date ({birth}) does not say whether they are {_ADULT_YEARS} yet, so children's dosing "
        "was not considered",
    )
