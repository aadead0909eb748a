"""Table-driven CDS Hooks scenarios over the real app (SQLite and PostgreSQL): FHIR R4 orders as EHRs send
them, each with the exact indicators of the answer and the key facts of every card.

Every card of every answer is also checked against the CDS Hooks 2.0 card rules (summary < 140 characters,
indicator, source with label and the human page URL, unique uuids, suggestions with uuids and a
``selectionBehavior``, no developer messages).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.integrations.fixtures.cds_requests import (
    INJECTION_380,
    NO_ACTIVE,
    TABLET_50,
    UNKNOWN_RXNORM,
    active,
    bundle,
    concept,
    dosage,
    gts,
    medication,
    order,
    order_select,
    order_sign,
    quantity,
    repeat,
    snomed_route,
    statement,
)
from tests.integrations.fixtures.fhir_server import FhirHandler
from tests.integrations.fixtures.fhir_server import fhir_server as serve_fhir

SIGN = "/cds-services/ldn-kb-order-sign"
SELECT = "/cds-services/ldn-kb-order-select"
EMPTY = active()  # an active-medication list that was read and is empty

# Medications as EHRs name them
LDN = concept("naltrexone 4.5 mg capsule (compounded)")
TAB50 = concept(
    "naltrexone hydrochloride 50 MG Oral Tablet", rxnorm=TABLET_50, display="naltrexone hydrochloride 50 MG Oral Tablet"
)
TAB50_CODE_ONLY = concept(rxnorm=TABLET_50)
TAB_TEXT_ONLY = concept("Naltrexone HCl 50 mg tablet")
VIVITROL = concept("Vivitrol 380 mg extended-release injectable suspension", rxnorm=INJECTION_380)
OXYCODONE = concept("oxycodone hydrochloride 5 MG Oral Tablet")
OXYCONTIN = concept("OxyContin 10 mg ER tablet")
ORAL = "Oral route"
NIGHTLY = dosage(dose=quantity(4.5), timing=gts("QHS"), route=snomed_route("26643006", "Oral route"))


def daily(mg: float, **kw: Any) -> dict[str, Any]:
    return dosage(dose=quantity(mg), timing=gts("QD"), route=ORAL, **kw)


def _lines(resource_id: str, med: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    resource = order(resource_id, med)
    resource["dosageInstruction"] = [{**line, "sequence": n} for n, line in enumerate(lines, start=1)]
    return resource


def _one_line(med: dict[str, Any], mg: float, timing: dict[str, Any]) -> dict[str, Any]:
    """An order-sign call with one naltrexone order of ``mg`` by mouth on ``timing``, no active medications."""
    return order_sign(order("n1", med, dosage_=dosage(dose=quantity(mg), timing=timing, route=ORAL)), prefetch=EMPTY)


def _together(resource_id: str, med: dict[str, Any], lines: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """Dosage lines with the sequence given: lines that share a sequence are taken at the same time."""
    resource = order(resource_id, med)
    resource["dosageInstruction"] = [{**line, "sequence": n} for n, line in lines]
    return resource


def _unsequenced(resource_id: str, med: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Dosage lines with no sequence (or one that is not an integer): taken together or one after another,
    the order does not say."""
    resource = order(resource_id, med)
    resource["dosageInstruction"] = lines
    return resource


def _born(years_ago: int, *, precision: str = "day") -> str:
    """A FHIR birthDate ``years_ago`` years before today (a year or a month only, for a partial date)."""
    today = datetime.now(UTC).date()
    born = today.replace(year=today.year - years_ago, day=min(today.day, 28))
    return {"year": f"{born.year}", "month": f"{born:%Y-%m}", "day": born.isoformat()}[precision]


def _for_patient(birth_date: str | None, base: dict[str, Any] = EMPTY) -> dict[str, Any]:
    """A prefetch with the Patient (``Patient/{{context.patientId}}``), born on ``birth_date``."""
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "1288992"}
    if birth_date is not None:
        patient["birthDate"] = birth_date
    return {**base, "patient": patient}


def _by_full_url(body: dict[str, Any]) -> dict[str, Any]:
    """Draft orders without ids, named by urn:uuid fullUrls (as some EHRs send them)."""
    for n, entry in enumerate(body["context"]["draftOrders"]["entry"], start=1):
        entry["fullUrl"] = f"urn:uuid:5d3b3c1e-0001-4000-8000-00000000000{n}"
        del entry["resource"]["id"]
    return body


def _r5(resource: dict[str, Any]) -> dict[str, Any]:
    """The R5 shape: medication.concept / medication.reference instead of medication[x]."""
    if "medicationCodeableConcept" in resource:
        resource["medication"] = {"concept": resource.pop("medicationCodeableConcept")}
    if "medicationReference" in resource:
        resource["medication"] = {"reference": resource.pop("medicationReference")}
    return resource


def _patient(body: dict[str, Any], patient_id: str) -> dict[str, Any]:
    body["context"]["patientId"] = patient_id
    return body


def _ldn_beside_atc_only(code: str) -> Callable[[str], dict[str, Any]]:
    """LDN signed beside an active medication coded only by the ATC code ``code``."""
    return lambda _: order_sign(
        order("n1", LDN, dosage_=NIGHTLY), prefetch=active(order("a1", concept(atc=code), status="active"))
    )


def _with_contained(resource_id: str, medication: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """An order for the contained Medication ``#m1`` made of ``medication``'s elements."""
    return order(
        resource_id, reference="#m1", contained=[{"resourceType": "Medication", "id": "m1", **medication}], **kw
    )


def oxy_order(resource_id: str = "oxy-1", med: dict[str, Any] = OXYCODONE) -> dict[str, Any]:
    return order(resource_id, med, dosage_=dosage(dose=quantity(5), timing=gts("Q6H"), route=ORAL))


# --------------------------------------------------------------------------------------------------
# A local FHIR server (the EHR's fhirServer): Medications and medication lists, and the bearer seen


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[str]:
    resources = {
        "/fhir/Medication/med-ntx": medication(
            "med-ntx", concept("naltrexone hydrochloride 50 MG Oral Tablet", rxnorm=TABLET_50)
        ),
        "/fhir/Medication/med-fent": medication("med-fent", concept("Duragesic 25 mcg/hr patch")),
        "/fhir/MedicationRequest": bundle(order("act-ntx", TAB50, status="active")),
        "/fhir/MedicationStatement": bundle(),
        # Another patient's list refers to a Medication it does not include: read in a second round.
        "/fhir/MedicationRequest|p-fent": bundle(order("act-f", reference="Medication/med-fent", status="active")),
    }
    with serve_fhir(resources) as url:
        yield url


def _closed_port() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/fhir"


CLOSED = _closed_port()
"""A FHIR server that refuses connections (a port bound once and closed)."""


@pytest.fixture(scope="module")
def silent_fhir() -> Iterator[str]:
    """A FHIR server that accepts connections (the backlog) and never answers."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}/fhir"


@pytest.fixture(scope="module")
def settings(database_url: str, fhir_server: str, silent_fhir: str) -> Settings:
    """The test store, and the local FHIR servers as the ones CDS calls may read (LDNKB_CDS_FHIR_SERVERS)."""
    return Settings(
        database_url=database_url, content_check_interval=0, cds_fhir_servers=[fhir_server, CLOSED, silent_fhir]
    )


# --------------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class Card:
    indicator: str
    summary: tuple[str, ...] = ()
    """Words the summary must contain (case-insensitive)."""
    detail: tuple[str, ...] = ()
    """Words the detail must contain (case-insensitive)."""
    delete: tuple[str, ...] = ()
    """Resource ids of the suggested delete actions (opioid cards)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    body: Callable[[str], dict[str, Any]]
    """Builds the request body from the local FHIR server's base URL."""
    cards: tuple[Card, ...]
    path: str = SIGN
    absent: tuple[str, ...] = field(default=())
    """Words no card may contain."""


def _s(
    name: str, body: Callable[[str], dict[str, Any]], *cards: Card, path: str = SIGN, absent: tuple[str, ...] = ()
) -> Scenario:
    return Scenario(name, body, cards, path, absent)


SCENARIOS: list[Scenario] = [
    # --- doses: coded and text timing, tablets, injections, ranges -------------------------------
    _s(
        "LDN 4.5 mg QHS (GTS code only)",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=EMPTY),
        Card(
            "info",
            ("4.5 mg daily", "low-dose"),
            (
                "Review of Therapeutic Utilization",
                "randomized trial, no benefit",
                "Claimed only by an article",
                "Label warnings:** Contraindicated with opioids",
                "Hepatotoxicity",
            ),
        ),
    ),
    _s(
        "LDN 4.5 mg timing.repeat 1/d",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(4.5), timing=repeat(), route=ORAL)), prefetch=EMPTY
        ),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "LDN 1.5 mg 'at bedtime' code text",
        lambda _: order_sign(
            order(
                "n1", LDN, dosage_=dosage(dose=quantity(1.5), timing={"code": {"text": "at bedtime"}}, route="by mouth")
            ),
            prefetch=EMPTY,
        ),
        Card("info", ("1.5 mg daily", "low-dose")),
    ),
    _s(
        "LDN 1.5 mg BID",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(1.5), timing=gts("BID"), route=ORAL)), prefetch=EMPTY
        ),
        Card("info", ("1.5 mg twice daily",)),
    ),
    _s(
        "LDN 4.5 mg QPM display only",
        lambda _: order_sign(
            order(
                "n1",
                LDN,
                dosage_=dosage(dose=quantity(4.5), timing={"code": {"coding": [{"display": "every evening"}]}}),
            ),
            prefetch=EMPTY,
        ),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "LDN 4500 ug daily (UCUM ug)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(4500, "ug"), timing=gts("QD"))), prefetch=EMPTY
        ),
        Card("info", ("4500 µg daily", "low-dose")),
    ),
    _s(
        "LDN dose range 1-4.5 mg nightly",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose_range=(quantity(1), quantity(4.5)), timing=gts("QHS"))), prefetch=EMPTY
        ),
        Card("info", ("4.5 mg daily",), ("upper end",)),
    ),
    _s(
        "50 mg tablet code, 1 {tbl} QD",
        lambda _: order_sign(
            order(
                "n1",
                TAB50,
                dosage_=dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD"), route=snomed_route("26643006")),
            ),
            prefetch=EMPTY,
        ),
        Card("info", ("50 mg daily", "labelled dose"), ("1 tablet of 50 mg", "1483744")),
    ),
    _s(
        "50 mg tablet, code only, 'tab' unit",
        lambda _: order_sign(
            order("n1", TAB50_CODE_ONLY, dosage_=dosage(dose=quantity(1, "tab", "tab"), timing=repeat())),
            prefetch=EMPTY,
        ),
        Card("info", ("50 mg daily", "labelled dose")),
    ),
    _s(
        "half a 50 mg tablet daily",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=dosage(dose=quantity(0.5, "tablet", "{tbl}"), timing=gts("QD"))), prefetch=EMPTY
        ),
        Card("warning", ("25 mg daily",)),
    ),
    _s(
        "2 tablets daily (100 mg)",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=dosage(dose=quantity(2, "TAB", "TAB"), timing=gts("QD"), route=ORAL)),
            prefetch=EMPTY,
        ),
        Card("info", ("100 mg daily", "2× the label's 50 mg daily")),
    ),
    _s(
        "150 mg daily",
        lambda _: order_sign(order("n1", TAB50, dosage_=daily(150)), prefetch=EMPTY),
        Card(
            "warning",
            ("150 mg daily", "3× the label's 50 mg daily"),
            ("50 mg once daily", "NIAAA", "50 to 200 mg daily", "the article's claim"),
        ),
        absent=("documented (", "labelled dose"),
    ),
    _s(
        "200 mg daily",
        lambda _: order_sign(order("n1", TAB50, dosage_=daily(200)), prefetch=EMPTY),
        Card("warning", ("200 mg daily", "4× the label's 50 mg daily"), ("the article's claim",)),
        absent=("labelled dose",),
    ),
    _s(
        "3 tablets daily (150 mg)",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=dosage(dose=quantity(3, "tablets", "{tbl}"), timing=gts("QD"))), prefetch=EMPTY
        ),
        Card("warning", ("150 mg daily", "3× the label's 50 mg daily")),
    ),
    _s(
        "dose range 50-200 mg daily",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=dosage(dose_range=(quantity(50), quantity(200)), timing=gts("QD"))),
            prefetch=EMPTY,
        ),
        Card("warning", ("200 mg daily", "4×"), ("upper end",)),
    ),
    _s(
        "1-2 times daily 50 mg (frequencyMax)",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=dosage(dose=quantity(50), timing=repeat(1, 1, "d", frequencyMax=2))),
            prefetch=EMPTY,
        ),
        Card("info", ("50 mg twice daily",), ("most frequent use",)),
    ),
    _s(
        "150 mg every third day",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=dosage(dose=quantity(150), timing=repeat(1, 3, "d"), route=ORAL)), prefetch=EMPTY
        ),
        # the label's supervised alternative, named as it is (not "labelled dose": that is the reference 50 mg daily)
        Card("info", ("150 mg every 3 days", "documented", "150 mg every third day")),
    ),
    _s(
        "100 mg QOD",
        lambda _: order_sign(order("n1", TAB50, dosage_=dosage(dose=quantity(100), timing=gts("QOD"))), prefetch=EMPTY),
        Card("info", ("100 mg every other day",)),
    ),
    _s(
        "10 mg daily",
        lambda _: order_sign(order("n1", TAB_TEXT_ONLY, dosage_=daily(10)), prefetch=EMPTY),
        Card("warning", ("10 mg daily", "no documented regimen")),
    ),
    _s(
        "Vivitrol 380 mg IM Q4W",
        lambda _: order_sign(
            order(
                "v1",
                VIVITROL,
                dosage_=dosage(
                    dose=quantity(380), timing=gts("Q4W"), route=snomed_route("78421000", "Intramuscular route")
                ),
            ),
            prefetch=EMPTY,
        ),
        Card("info", ("380 mg IM every 4 weeks", "labelled dose")),
        absent=("13.57",),
    ),
    _s(
        "Vivitrol 1 injection monthly by code",
        lambda _: order_sign(
            order(
                "v1",
                VIVITROL,
                dosage_=dosage(
                    dose=quantity(1, "injection", "{injection}"), timing=gts("MO"), route=snomed_route("78421000")
                ),
            ),
            prefetch=EMPTY,
        ),
        Card("info", ("380 mg IM", "labelled dose"), ("637213",)),
    ),
    _s(
        "Vivitrol repeat 1 per 4 wk, text route IM",
        lambda _: order_sign(
            order("v1", VIVITROL, dosage_=dosage(dose=quantity(380), timing=repeat(1, 4, "wk"), route="IM")),
            prefetch=EMPTY,
        ),
        Card("info", ("380 mg IM every 4 weeks",)),
    ),
    # The label's average per day on another schedule: not the labelled dose, a warning that says so.
    _s(
        "Vivitrol 190 mg every 2 weeks (half the dose, twice as often)",
        lambda _: order_sign(
            order("v1", VIVITROL, dosage_=dosage(dose=quantity(190), timing=repeat(1, 2, "wk"), route="IM")),
            prefetch=EMPTY,
        ),
        Card("warning", ("190 mg IM every 2 weeks", "not a documented schedule", "380 mg every 4 weeks")),
        absent=("labelled dose",),
    ),
    _s(
        "LDN 31.5 mg once a week (4.5 mg a day on average)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(31.5), timing=repeat(1, 1, "wk"), route=ORAL)),
            prefetch=EMPTY,
        ),
        Card("warning", ("31.5 mg weekly", "not a documented schedule")),
        absent=("(off-label)", "labelled dose"),
    ),
    _s(
        "LDN 1642.5 mg once a year (4.5 mg a day on average)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(1642.5), timing=repeat(1, 1, "a"), route=ORAL)),
            prefetch=EMPTY,
        ),
        Card("warning", ("1642.5 mg every 365 days", "not a documented schedule"), ("do not document it",)),
        absent=("(off-label)", "labelled dose", "this dose lies in"),
    ),
    _s(
        "tablets, strength unknown (text only)",
        lambda _: order_sign(
            order("n1", TAB_TEXT_ONLY, dosage_=dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD"))),
            prefetch=EMPTY,
        ),
        Card(
            "warning",
            ("not assessed", "strength"),
        ),
        absent=("unknown unit", "required"),
    ),
    _s(
        "contained Medication stating 50 mg per tablet",
        lambda _: order_sign(
            order(
                "n1",
                reference="#m1",
                contained=[medication("m1", concept("naltrexone tablet"), strength_mg=50)],
                dosage_=dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD")),
            ),
            prefetch=EMPTY,
        ),
        Card("info", ("50 mg daily",)),
    ),
    _s(
        "a contained Medication whose only stated strength is another ingredient's",
        lambda _: order_sign(
            order(
                "n1",
                reference="#m1",
                contained=[
                    {
                        **medication("m1", concept("naltrexone/bupropion tablet"), strength_mg=4.5),
                        "ingredient": [
                            {
                                "itemCodeableConcept": {"text": "bupropion hydrochloride"},
                                "strength": {
                                    "numerator": quantity(4.5),
                                    "denominator": {"value": 1, "unit": "tablet", "code": "{tbl}"},
                                },
                            }
                        ],
                    }
                ],
                dosage_=dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD")),
            ),
            prefetch=EMPTY,
        ),
        Card("warning", ("not assessed", "strength")),
        absent=("(off-label)",),
    ),
    _s(
        "a coded 50 mg tablet whose contained Medication states 4.5 mg: the strengths disagree",
        lambda _: order_sign(
            order(
                "n1",
                reference="#m1",
                contained=[medication("m1", TAB50, strength_mg=4.5)],
                dosage_=dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD")),
            ),
            prefetch=EMPTY,
        ),
        Card("warning", ("not assessed", "strength"), ("do not give one strength",)),
        absent=("labelled dose",),
    ),
    _s(
        "compounded LDN in capsules, strength not coded",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(1, "capsule", "{cap}"), timing=gts("QHS"))), prefetch=EMPTY
        ),
        Card("warning", ("not assessed", "capsule"), ("Check the dose",)),
    ),
    _s(
        "no timing",
        lambda _: order_sign(order("n1", LDN, dosage_=dosage(dose=quantity(4.5))), prefetch=EMPTY),
        Card("warning", ("not assessed", "how often")),
        absent=("frequency:", "required"),
    ),
    _s(
        "as needed, no frequency",
        lambda _: order_sign(order("n1", LDN, dosage_=dosage(dose=quantity(4.5), as_needed=True)), prefetch=EMPTY),
        Card("warning", ("not assessed", "as needed")),
    ),
    _s(
        "amount sent as a string '4_5'",
        lambda _: order_sign(order("n1", LDN, dosage_=dosage(dose=quantity("4_5"), timing=gts("QD"))), prefetch=EMPTY),
        Card("warning", ("not assessed", "not a number")),
        absent=("45 mg",),
    ),
    _s(
        "unit mL",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose=quantity(4.5, "mL"), timing=gts("QD"))), prefetch=EMPTY
        ),
        Card("warning", ("not assessed", "unit")),
    ),
    _s(
        "no dose at all",
        lambda _: order_sign(order("n1", LDN, dosage_=dosage(timing=gts("QD"))), prefetch=EMPTY),
        Card("warning", ("not assessed", "no dose")),
    ),
    _s(
        "LDN titration in three dosage lines",
        lambda _: order_sign(
            _lines("n1", LDN, [dosage(dose=quantity(mg), timing=gts("QHS")) for mg in (1.5, 3, 4.5)]), prefetch=EMPTY
        ),
        Card(
            "info",
            ("1.5 mg daily",),
            ("dosage line 1", "line 2: Naltrexone 3 mg daily", "line 3: Naltrexone 4.5 mg daily"),
        ),
    ),
    _s(
        "induction: 25 mg once, then 50 mg daily",
        lambda _: order_sign(
            _lines(
                "n1",
                TAB50,
                [
                    dosage(dose=quantity(25), timing={"repeat": {"count": 1}}),
                    dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD")),
                ],
            ),
            prefetch=EMPTY,
        ),
        Card("warning", ("25 mg once",), ("line 2: Naltrexone 50 mg daily: labelled dose",)),
    ),
    # Lines with the same sequence are taken together (FHIR R4 Dosage.sequence): their total is the dose.
    _s(
        "two lines taken together: 4.5 mg daily twice over (9 mg a day)",
        lambda _: order_sign(
            _together("n1", LDN, [(1, daily(4.5)), (1, daily(4.5))]),
            prefetch=EMPTY,
        ),
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("taken together", "9 mg a day")),
        absent=("(off-label)", "labelled dose"),
    ),
    _s(
        "two lines taken together: 4.5 mg daily and 50 mg daily (54.5 mg a day)",
        lambda _: order_sign(_together("n1", TAB50, [(1, daily(4.5)), (1, daily(50))]), prefetch=EMPTY),
        Card("info", ("4.5 mg daily + 50 mg daily", "50.0–100.0 mg daily"), ("taken together", "54.5 mg a day")),
        absent=("labelled dose", "low-dose (off-label)"),
    ),
    _s(
        "two lines taken together that cannot be added up (daily and every other day)",
        lambda _: order_sign(
            _together(
                "n1",
                TAB50,
                [(2, daily(50)), (2, dosage(dose=quantity(50), timing=gts("QOD"), route=ORAL))],
            ),
            prefetch=EMPTY,
        ),
        Card("warning", ("not assessed",), ("taken together", "lines 1 and 2")),
    ),
    _s(
        "two lines taken together, one unreadable",
        lambda _: order_sign(
            _together("n1", LDN, [(1, daily(4.5)), (1, dosage(timing=gts("QD")))]),
            prefetch=EMPTY,
        ),
        Card("warning", ("not assessed",), ("taken together",)),
        absent=("(off-label)",),
    ),
    _s(
        "sequences 1, 1, 2: the first two together, then the third",
        lambda _: order_sign(
            _together("n1", LDN, [(1, daily(2)), (1, daily(2.5)), (2, daily(4.5))]),
            prefetch=EMPTY,
        ),
        Card("info", ("2 mg daily + 2.5 mg daily",), ("taken together", "4.5 mg a day", "line 3: Naltrexone 4.5 mg")),
    ),
    # Lines without a sequence: together or one after another is not said, so both readings are assessed.
    _s(
        "two lines without a sequence: taken together they are 9 mg a day",
        lambda _: order_sign(_unsequenced("n1", LDN, [daily(4.5), daily(4.5)]), prefetch=EMPTY),
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("no sequence", "if taken together", "9 mg a day")),
    ),
    _s(
        "two lines without a sequence, documented either way",
        lambda _: order_sign(_unsequenced("n1", LDN, [daily(1.5), daily(1.5)]), prefetch=EMPTY),
        Card("info", ("1.5 mg daily",), ("no sequence", "if taken together", "3 mg a day")),
    ),
    _s(
        "a line with a sequence and one without: they may be taken together",
        lambda _: order_sign(_unsequenced("n1", LDN, [{**daily(4.5), "sequence": 1}, daily(4.5)]), prefetch=EMPTY),
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("no sequence", "if taken together")),
    ),
    _s(
        "a line without a sequence before a sequenced one",
        lambda _: order_sign(_unsequenced("n1", LDN, [daily(4.5), {**daily(4.5), "sequence": 2}]), prefetch=EMPTY),
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("no sequence", "if taken together")),
    ),
    _s(
        "a sequence that is not an integer beside sequence 1",
        lambda _: order_sign(
            _unsequenced("n1", LDN, [{**daily(4.5), "sequence": "1"}, {**daily(4.5), "sequence": 1}]), prefetch=EMPTY
        ),
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("no sequence", "if taken together")),
    ),
    _s(
        "two unsequenced lines, both readings documented: the together reading leads",
        lambda _: order_sign(_unsequenced("n1", TAB50, [daily(50), daily(50)]), prefetch=EMPTY),
        Card("info", ("50 mg daily + 50 mg daily",), ("no sequence", "line 1: Naltrexone 50 mg daily")),
    ),
    _s(
        "a sequence written 1.0 is sequence 1",
        lambda _: order_sign(_together("n1", LDN, [(1.0, daily(4.5)), (1.0, daily(4.5))]), prefetch=EMPTY),  # type: ignore[list-item]
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("taken together (one sequence)", "9 mg a day")),
        absent=("(off-label)", "no sequence"),
    ),
    _s(
        "a sequence that is not an integer is no sequence",
        lambda _: order_sign(
            _unsequenced("n1", LDN, [{**daily(4.5), "sequence": "1"}, {**daily(4.5), "sequence": 1.5}]),
            prefetch=EMPTY,
        ),
        Card("warning", ("4.5 mg daily + 4.5 mg daily",), ("no sequence", "if taken together")),
    ),
    # What the order leaves uncertain is never reassuring (the audit of this session).
    _s(
        "an unrecognised route: warning, never the labelled dose",
        lambda _: order_sign(
            order("v1", VIVITROL, dosage_=dosage(dose=quantity(380), timing=repeat(1, 4, "wk"), route="subcut")),
            prefetch=EMPTY,
        ),
        Card("warning", ("route not recognised",), ("compared on the dose alone",)),
        absent=("labelled dose",),
    ),
    _s(
        "a dose range with no upper limit: warning",
        lambda _: order_sign(
            order("n1", LDN, dosage_=dosage(dose_range=(quantity(4.5), {}), timing=gts("QD"), route=ORAL)),
            prefetch=EMPTY,
        ),
        Card("warning", ("no upper limit",)),
        absent=("low-dose (off-label)",),
    ),
    _s(
        "weekdays as dayOfWeek with a daily period: not a daily dose",
        lambda _: _one_line(TAB50, 50, repeat(1, dayOfWeek=["mon", "tue", "wed", "thu", "fri"])),
        Card("warning", ("50 mg Mon–Fri",)),
        absent=("labelled dose",),
    ),
    _s(
        "once a week on Monday, written with a daily period",
        lambda _: _one_line(LDN, 4.5, repeat(1, dayOfWeek=["mon"])),
        Card("warning", ("4.5 mg Mon",)),
        absent=("(off-label)",),
    ),
    _s(
        "two times of day with a period of 24 hours",
        lambda _: _one_line(LDN, 4.5, repeat(1, 24, "h", timeOfDay=["08:00:00", "20:00:00"])),
        Card("warning", ("4.5 mg twice daily",)),
    ),
    _s(
        "six lines taken together: more than are assessed, so not assessed",
        lambda _: order_sign(
            _together("n1", TAB50, [(1, daily(0.9))] * 5 + [(1, daily(50))]),
            prefetch=EMPTY,
        ),
        Card("warning", ("not assessed",), ("taken together",)),
        absent=("(off-label)",),
    ),
    _s(
        "a timing text with a negative interval: not assessed, never the labelled dose",
        lambda _: order_sign(
            order("v1", VIVITROL, dosage_=dosage(dose=quantity(380), timing={"code": {"text": "every -4 weeks"}})),
            prefetch=EMPTY,
        ),
        Card("warning", ("not assessed",)),
        absent=("labelled dose",),
    ),
    # --- the patient's age (prefetch Patient.birthDate): a child's dose only a children's range documents --
    _s(
        "a child's LDN 4.5 mg daily: not documented for children",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=_for_patient(_born(10))),
        Card("warning", ("not documented for children",), ("the patient is a child",)),
        absent=("(off-label)",),
    ),
    _s(
        "a child's Vivitrol: not documented for children",
        lambda _: order_sign(
            order("v1", VIVITROL, dosage_=dosage(dose=quantity(380), timing=repeat(1, 4, "wk"), route="IM")),
            prefetch=_for_patient(_born(12, precision="month")),
        ),
        Card("warning", ("not documented for children",), ("the patient is a child",)),
        absent=("labelled dose",),
    ),
    _s(
        "an adult's LDN 4.5 mg daily: low-dose",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=_for_patient(_born(40, precision="year"))),
        Card("info", ("4.5 mg daily", "(off-label)"), ("the patient is an adult",)),
    ),
    _s(
        "a birth year that may be 18 years ago or not: said, judged without a population",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=_for_patient(_born(18, precision="year"))),
        Card("info", ("4.5 mg daily",), ("does not say whether they are 18",)),
    ),
    _s(
        "a birth date that cannot be read: never reassuring",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=_for_patient("10/05/2015")),
        Card("warning", ("birth date",), ("not readable",)),
    ),
    _s(
        "a birth date after today: never reassuring",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=_for_patient(_born(-2))),
        Card("warning", ("birth date",), ("after today",)),
    ),
    _s(
        "the Patient in a Bundle is read",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={**EMPTY, "patient": bundle(_for_patient(_born(10))["patient"])},
        ),
        Card("warning", ("not documented for children",), ("the patient is a child",)),
    ),
    _s(
        "a prefetched Patient that is not the call's patient is not used",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={**EMPTY, "patient": {**_for_patient(_born(40))["patient"], "id": "someone-else"}},
        ),
        Card("warning", ("4.5 mg daily",), ("not this call's patient",)),
    ),
    _s(
        "no Patient in the prefetch: said",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=EMPTY),
        Card("info", ("4.5 mg daily",), ("age was not given",)),
    ),
    # --- an active medication list that came incomplete is said, never taken for the whole list -------
    _s(
        "the MedicationStatements could not be fetched (OperationOutcome)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={**EMPTY, "activeStatements": {"resourceType": "OperationOutcome", "issue": []}},
        ),
        Card("warning", ("check incomplete",), ("MedicationStatement",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "the MedicationStatements were not sent",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch={"activeMedications": bundle()}),
        Card("warning", ("check incomplete",), ("MedicationStatement",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "a list with more pages than were sent",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={
                **EMPTY,
                "activeMedications": {**bundle(), "link": [{"relation": "next", "url": "https://ehr/fhir?page=2"}]},
            },
        ),
        Card("warning", ("check incomplete",), ("more pages",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "a list whose total is more than its entries",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY), prefetch={**EMPTY, "activeMedications": {**bundle(), "total": 3}}
        ),
        Card("warning", ("check incomplete",), ("3",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "a list entry that is an OperationOutcome or has no resource",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={
                **EMPTY,
                "activeMedications": {
                    **bundle(),
                    "entry": [{"resource": {"resourceType": "OperationOutcome", "issue": []}}, {"fullUrl": "urn:x"}],
                },
            },
        ),
        Card("warning", ("check incomplete",), ("could not be read",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "an active statement of an opioid whose status is unknown: the contraindication",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={
                **EMPTY,
                "activeStatements": bundle(statement("s1", concept("Percocet 5/325"), status="unknown")),
            },
        ),
        Card("critical", ("oxycodone",), ("Percocet",), delete=("MedicationRequest/n1",)),
        Card("info", ("4.5 mg daily",)),
    ),
    # --- a medication named but not recognised is not checked, never "not an opioid" ----------------
    _s(
        "LDN + an active opioid brand the reference does not list (Subsys)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch=active(order("a1", concept("Subsys 400 mcg sublingual spray"), status="active")),
        ),
        Card("warning", ("could not be checked",), ("Subsys 400 mcg sublingual spray", "not recognised")),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "LDN + an active non-opioid with its ATC code (lofexidine): nothing more to say",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch=active(order("a1", concept("Lucemyra 0.18 MG Oral Tablet", atc="N07BC04"), status="active")),
        ),
        Card("info", ("4.5 mg daily",)),
        absent=("could not be checked",),
    ),
    # --- the opioid contraindication, in every direction -----------------------------------------
    _s(
        "LDN + oxycodone draft",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), oxy_order(), prefetch=EMPTY),
        Card("critical", ("oxycodone", "contraindicated"), ("label",), delete=("MedicationRequest/n1",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "LDN + OxyContin brand only",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), oxy_order("oc-1", OXYCONTIN), prefetch=EMPTY),
        Card("critical", ("oxycodone",), ("brand OxyContin",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "LDN + active opioid by ATC only",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch=active(order("a1", concept("Brand X", atc="N02AA01"), status="active")),
        ),
        Card("critical", (), ("ATC N02AA01", "active medication list"), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "LDN + active MedicationStatement Suboxone",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch=active(statement("s1", concept("Suboxone 8 mg-2 mg sublingual film"))),
        ),
        Card("critical", ("buprenorphine",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "LDN + completed Percocet statement (ended)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch=active(statement("s1", concept("Percocet 5/325"), status="completed")),
        ),
        Card("info"),
    ),
    _s(
        "opioid signed, naltrexone active (prefetch)",
        lambda _: order_sign(oxy_order(), prefetch=active(order("a1", TAB50, status="active"))),
        Card("critical", ("oxycodone", "on naltrexone"), (), delete=("MedicationRequest/oxy-1",)),
    ),
    _s(
        "order-select: opioid selected, naltrexone drafted",
        lambda _: order_select(
            order("n1", TAB50, dosage_=daily(50)), oxy_order(), selections=["MedicationRequest/oxy-1"], prefetch=EMPTY
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        path=SELECT,
    ),
    _s(
        "order-select: naltrexone selected, opioid drafted",
        lambda _: order_select(
            order("n1", TAB50, dosage_=daily(50)), oxy_order(), selections=["MedicationRequest/n1"], prefetch=EMPTY
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info", ("50 mg daily",)),
        path=SELECT,
    ),
    _s(
        "order-select: orders named by their entries' fullUrl",
        lambda _: _by_full_url(
            order_select(
                order("n1", TAB50, dosage_=daily(50)),
                oxy_order(),
                selections=["urn:uuid:5d3b3c1e-0001-4000-8000-000000000002"],
                prefetch=EMPTY,
            )
        ),
        Card("critical", ("oxycodone",)),
        path=SELECT,
    ),
    _s(
        "order-select: unrelated selection (its ATC code says it is not an opioid)",
        lambda _: order_select(
            order("n1", TAB50, dosage_=daily(50)),
            order("lof", concept("Lucemyra 0.18 MG Oral Tablet", atc="N07BC04")),
            selections=["MedicationRequest/lof"],
            prefetch=EMPTY,
        ),
        path=SELECT,
    ),
    _s(
        "order-select: a selection named only, not recognised, beside a naltrexone draft",
        lambda _: order_select(
            order("n1", TAB50, dosage_=daily(50)),
            order("amx", concept("amoxicillin 500 MG Oral Capsule")),
            selections=["MedicationRequest/amx"],
            prefetch=EMPTY,
        ),
        Card("warning", ("could not be checked",), ("amoxicillin", "not recognised")),
        path=SELECT,
    ),
    _s(
        "same opioid in drafts and prefetch: one card",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            oxy_order(),
            prefetch=active(order("oxy-9", OXYCODONE, status="active"), order("oxy-1", OXYCODONE, status="active")),
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "two opioids: one critical card naming both",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            order("t1", concept("tramadol 50 MG Oral Tablet")),
            prefetch=active(statement("s1", concept("Duragesic 25 mcg/hr patch"))),
        ),
        Card("critical", ("tramadol", "fentanyl"), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "naltrexone by RxNorm code only + Tylenol with Codeine",
        lambda _: order_sign(
            order("n1", TAB50_CODE_ONLY, dosage_=daily(50)),
            order("c1", concept("Tylenol with Codeine #3")),
            prefetch=EMPTY,
        ),
        Card("critical", ("codeine",), delete=("MedicationRequest/n1",)),
        Card("info", ("50 mg daily",)),
    ),
    _s(
        "MS Contin (two-word brand)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY), order("m1", concept("MS CONTIN 15 MG tablet")), prefetch=EMPTY
        ),
        Card("critical", ("morphine",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "Targiniq (contains naloxone) is an opioid",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY), prefetch=active(order("a1", concept("Targiniq ER"), status="active"))
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "Zubsolv",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY), prefetch=active(statement("s1", concept("zubsolv 5.7 mg/1.4 mg")))
        ),
        Card("critical", ("buprenorphine",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "a product combining an opioid with naltrexone is an opioid",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            order("e1", concept("morphine sulfate 20 MG / naltrexone hydrochloride 0.8 MG extended-release capsule")),
            prefetch=EMPTY,
        ),
        Card("critical", ("morphine",), delete=("MedicationRequest/n1",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "naloxone and lofexidine are not opioids",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch=active(
                statement("s1", concept("Narcan (naloxone) 4 mg nasal spray")),
                order("a2", concept("Lucemyra", atc="N07BC04"), status="active"),
            ),
        ),
        Card("info"),
        absent=("contraindicated on naltrexone",),
    ),
    _s(
        "naltrexone via Medication/123 in the prefetch",
        lambda _: order_sign(
            order("n1", reference="Medication/123", dosage_=dosage(dose=quantity(50), timing=gts("QD"))),
            oxy_order(),
            prefetch={"activeMedications": bundle(medication("123", TAB50)), "activeStatements": bundle()},
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info", ("50 mg daily",)),
    ),
    _s(
        "naltrexone via Medication reference read from fhirServer",
        lambda url: order_sign(
            order(
                "n1",
                reference="Medication/med-ntx",
                dosage_=dosage(dose=quantity(1, "tablet", "{tbl}"), timing=gts("QD")),
            ),
            oxy_order(),
            prefetch=EMPTY,
            fhir_server=url,
            token="tok-123",
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info", ("50 mg daily",)),
    ),
    _s(
        "opioid via Medication reference read from fhirServer",
        lambda url: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            order("f1", reference=f"{url}/Medication/med-fent"),
            prefetch=EMPTY,
            fhir_server=url,
            token="tok-123",
        ),
        Card("critical", ("fentanyl",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "no prefetch: active list read from fhirServer",
        lambda url: order_sign(oxy_order(), fhir_server=url, token="tok-123"),
        Card("critical", ("oxycodone", "on naltrexone"), delete=("MedicationRequest/oxy-1",)),
    ),
    _s(
        "code systems given by their HL7 OIDs",
        lambda _: order_sign(
            order(
                "n1",
                {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": TABLET_50}]},
                dosage_=daily(50),
            ),
            prefetch=active(
                statement("s1", {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.73", "code": "N02AA05"}]})
            ),
        ),
        Card("critical", (), ("ATC N02AA05",), delete=("MedicationRequest/n1",)),
        Card("info", ("50 mg daily",)),
    ),
    _s(
        "active list from fhirServer refers to a Medication read in a second round",
        lambda url: _patient(order_sign(order("n1", LDN, dosage_=NIGHTLY), fhir_server=url, token="t"), "p-fent"),
        Card("critical", ("fentanyl",), ("brand Duragesic",), delete=("MedicationRequest/n1",)),
        Card("info"),
    ),
    _s(
        "two drafts under one id: a repeat never hides an opioid",
        lambda _: order_sign(order("dup", LDN, dosage_=NIGHTLY), oxy_order("dup"), prefetch=EMPTY),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/dup",)),
        Card("info"),
    ),
    _s(
        "FHIR R5 'medication' CodeableReference shapes",
        lambda _: order_sign(
            _r5(order("n1", TAB50, dosage_=daily(50))),
            _r5(order("o1", reference="Medication/oxy", dosage_=daily(5))),
            prefetch={"activeMedications": bundle(medication("oxy", OXYCODONE)), "activeStatements": bundle()},
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info", ("50 mg daily",)),
    ),
    # --- what could not be checked is said --------------------------------------------------------
    _s(
        "no prefetch and no fhirServer",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY)),
        Card("warning", ("opioid check incomplete", "active medications"), ("no FHIR server",)),
        Card("info"),
    ),
    _s(
        "prefetch null: no active medications",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=NO_ACTIVE),
        Card("info"),
    ),
    _s(
        "prefetch failed (OperationOutcome)",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            prefetch={
                "activeMedications": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "timeout"}],
                }
            },
        ),
        Card("warning", ("active medications",), ("could not fetch",)),
        Card("info"),
    ),
    _s(
        "co-listed medication with only an RxNorm code",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY), order("x1", concept(rxnorm=UNKNOWN_RXNORM)), prefetch=EMPTY
        ),
        Card("warning", ("1 medication could not be checked",), ("RxNorm 0000001", "only a code")),
        Card("info"),
    ),
    _s(
        "naltrexone reference not resolvable, no fhirServer",
        lambda _: order_sign(
            order("n1", reference="Medication/404", dosage_=dosage(dose=quantity(50), timing=gts("QD"))), prefetch=EMPTY
        ),
        Card("warning", ("could not be checked",), ("Medication/404", "no FHIR server")),
    ),
    _s(
        "fhirServer unreachable",
        lambda _: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            order("x1", reference="Medication/777"),
            prefetch=EMPTY,
            fhir_server=CLOSED,
            token="tok-123",
        ),
        Card("warning", ("could not be checked",), ("Medication/777", "could not be read")),
        Card("info"),
    ),
    _s(
        "opioid signed without prefetch or fhirServer",
        lambda _: order_sign(oxy_order()),
        Card("warning", ("active medications",)),
    ),
    _s(
        "reference to a contained Medication that is missing",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), order("x1", reference="#gone"), prefetch=EMPTY),
        Card("warning", ("1 medication could not be checked",), ("contained Medication (#gone)",)),
        Card("info"),
    ),
    _s(
        "opioid signed, a code-only active medication",
        lambda _: order_sign(
            oxy_order(), prefetch=active(order("a1", concept(rxnorm=UNKNOWN_RXNORM), status="active"))
        ),
        Card("warning", ("1 medication could not be checked",), ("active medication MedicationRequest/a1",)),
    ),
    _s(
        "fhirServer without fhirAuthorization is not read (CDS Hooks 2.0)",
        lambda url: order_sign(
            order("n1", LDN, dosage_=NIGHTLY),
            order("f1", reference="Medication/med-fent"),
            prefetch=EMPTY,
            fhir_server=url,
        ),
        Card("warning", ("could not be checked",), ("Medication/med-fent", "no FHIR server with an access token")),
        Card("info"),
    ),
    # --- an unreadable or unrecognised medication that could complete the pair is said (audit 8) ------
    _s(
        "a draft known only by a code the reference cannot classify, beside an active opioid: said",
        lambda _: order_sign(
            order("n1", concept(rxnorm=UNKNOWN_RXNORM), dosage_=NIGHTLY),
            prefetch=active(order("a1", OXYCODONE, status="active")),
        ),
        Card("warning", ("could not be checked",), ("RxNorm 0000001", "draft order")),
    ),
    _s(
        "an order named by a medication that is not naltrexone's, beside an active opioid: nothing to say",
        lambda _: order_sign(
            order("x1", concept("amoxicillin 500 MG Oral Capsule")),
            prefetch=active(order("a1", OXYCODONE, status="active")),
        ),
        absent=("could not be checked",),
    ),
    _s(
        "a draft whose coding is an object, not a list, beside an active opioid: said",
        lambda _: order_sign(
            order("n1", {"coding": {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7243"}}),
            prefetch=active(order("a1", OXYCODONE, status="active")),
        ),
        Card("warning", ("could not be checked",), ("draft order",)),
    ),
    _s(
        "a draft whose medicationCodeableConcept is a string, beside an active opioid: said, in words",
        lambda _: order_sign(
            order("n1", "naltrexone 4.5 mg"),  # type: ignore[arg-type]  # as a faulty EHR sends it
            prefetch=active(order("a1", OXYCODONE, status="active")),
        ),
        Card("warning", ("could not be checked",), ("draft order", "could not be read")),
    ),
    _s(
        "an opioid signed while LDN (the content's abbreviation) is active: the contraindication",
        lambda _: order_sign(oxy_order(), prefetch=active(order("a1", concept("LDN 4.5 mg capsule"), status="active"))),
        Card("critical", ("oxycodone",), ("LDN 4.5 mg capsule",), delete=("MedicationRequest/oxy-1",)),
    ),
    *(
        _s(
            f"LDN + an active medication coded only by ATC {code} ({why}): not checked, never 'not an opioid'",
            _ldn_beside_atc_only(code),
            Card("warning", ("could not be checked",), (f"ATC {code}",)),
            Card("info", ("4.5 mg daily",)),
        )
        for code, why in (("XYZ", "malformed"), ("N02", "a group that holds the opioid classes"))
    ),
    _s(
        "a contained Medication named only by its ingredient (naltrexone) beside an active opioid",
        lambda _: order_sign(
            _with_contained(
                "n1", {"ingredient": [{"itemCodeableConcept": {"text": "naltrexone hydrochloride"}}]}, dosage_=NIGHTLY
            ),
            prefetch=active(order("a1", OXYCODONE, status="active")),
        ),
        Card("critical", ("oxycodone",), delete=("MedicationRequest/n1",)),
        Card("info", ("4.5 mg daily",)),
    ),
    _s(
        "LDN nightly: the evidence is the regimen's, never said to be at this very dose",
        lambda _: order_sign(order("n1", LDN, dosage_=NIGHTLY), prefetch=EMPTY),
        Card("info", ("4.5 mg daily",), ("evidence for the regimens this dose lies in", "a study's own dose")),
        absent=("evidence at this dose",),
    ),
    # --- the second audit of this session's changes (audit 9) ----------------------------------------------
    _s(
        "a Medication whose ingredient is given only by reference, beside active naltrexone: not checked",
        lambda _: order_sign(
            _with_contained(
                "x1",
                {
                    "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "M01AE01"}]},
                    "ingredient": [{"itemReference": {"reference": "#m2"}}],
                },
            ),
            prefetch=active(order("a1", TAB50, dosage_=daily(50), status="active")),
        ),
        Card("warning", ("could not be checked",), ("#m2",)),
    ),
    _s(
        "the injection's code with route oral at 4.5 mg daily: product and route disagree, never reassuring",
        lambda _: order_sign(
            order(
                "n1", concept(rxnorm=INJECTION_380), dosage_=dosage(dose=quantity(4.5), timing=gts("QD"), route=ORAL)
            ),
            prefetch=EMPTY,
        ),
        Card("warning", (), ("the order's route (oral)", "an injection")),
    ),
    _s(
        "a Medication whose form is a tablet, at 380 mg every 4 weeks with no route: not the injection's dose",
        lambda _: order_sign(
            _with_contained(
                "n1",
                {"code": {"text": "naltrexone"}, "form": {"text": "tablet"}},
                dosage_=dosage(dose=quantity(380), timing=repeat(1, 4, "wk")),
            ),
            prefetch=EMPTY,
        ),
        Card("warning", (), ("route taken from the product",)),
    ),
    _s(
        "a transdermal cream with no route: never 'documented for oral use'",
        lambda _: order_sign(
            order(
                "n1",
                concept("naltrexone transdermal cream 4.5 mg"),
                dosage_=dosage(dose=quantity(4.5), timing=gts("QD")),
            ),
            prefetch=EMPTY,
        ),
        Card("warning", (), ("route taken from the product",)),
        absent=("documented for oral use",),
    ),
    _s(
        "a suspension with no route is no injection: the route is not guessed",
        lambda _: order_sign(
            order("n1", concept("naltrexone 1 mg/mL suspension"), dosage_=dosage(dose=quantity(4.5), timing=gts("QD"))),
            prefetch=EMPTY,
        ),
        Card("info", ("route not given",)),
        absent=("given intramuscularly", " IM "),
    ),
    _s(
        "a renewal (priorPrescription: the active order) is no second naltrexone order",
        lambda _: order_sign(
            {**order("n1", TAB50, dosage_=daily(50)), "priorPrescription": {"reference": "MedicationRequest/a1"}},
            prefetch=active(order("a1", TAB50, dosage_=daily(50), status="active")),
        ),
        Card("info", ("50 mg daily",)),
        absent=("another naltrexone order",),
    ),
    _s(
        "a research compound named LDN-193189 beside an active opioid is not naltrexone",
        lambda _: order_sign(
            order("x1", concept("LDN-193189 10 mg")), prefetch=active(order("a1", OXYCODONE, status="active"))
        ),
        absent=("naltrexone ordered with an opioid", "contraindicated"),
    ),
    # --- two naltrexone orders at once: their total is not assessed, and said (audit 8) ---------------
    _s(
        "two naltrexone drafts of 100 mg daily: neither card reassures, each names the other",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=daily(100)), order("n2", TAB50, dosage_=daily(100)), prefetch=EMPTY
        ),
        Card("warning", ("100 mg daily",), ("another naltrexone order", "MedicationRequest/n2")),
        Card("warning", ("100 mg daily",), ("another naltrexone order", "MedicationRequest/n1")),
    ),
    _s(
        "a naltrexone draft beside an active naltrexone order: the total is not assessed",
        lambda _: order_sign(
            order("n1", TAB50, dosage_=daily(100)),
            prefetch=active(order("a1", TAB50, dosage_=daily(100), status="active")),
        ),
        Card("warning", ("100 mg daily",), ("another naltrexone order", "active")),
    ),
    # --- the route from the product when the order gives none (audit 8) -------------------------------
    _s(
        "the 380 mg injection product at 50 mg daily with no route: not the tablet's labelled dose",
        lambda _: order_sign(
            order("n1", concept(rxnorm=INJECTION_380), dosage_=dosage(dose=quantity(50), timing=gts("QD"))),
            prefetch=EMPTY,
        ),
        Card("warning", (), ("route taken from the product",)),
    ),
    _s(
        "a tablet named in text at 380 mg every 4 weeks with no route: not the injection's labelled dose",
        lambda _: order_sign(
            order("n1", TAB_TEXT_ONLY, dosage_=dosage(dose=quantity(380), timing=repeat(1, 4, "wk"))),
            prefetch=EMPTY,
        ),
        Card("warning", (), ("route taken from the product",)),
    ),
    # --- nothing to say ------------------------------------------------------------------------------
    _s(
        "no naltrexone anywhere",
        lambda _: order_sign(order("amx", concept("amoxicillin 500 MG Oral Capsule")), prefetch=EMPTY),
    ),
    _s(
        "opioid signed, no naltrexone active",
        lambda _: order_sign(oxy_order(), prefetch=active(statement("s1", concept("lisinopril 10 MG Oral Tablet")))),
    ),
]

_DEVELOPER_WORDS = re.compile(r"\b(required|field|None|null|frequency:|unit:|amount:|KeyError|Traceback)\b")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(client: TestClient, fhir_server: str, scenario: Scenario) -> None:
    response = client.post(scenario.path, json=scenario.body(fhir_server))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    got = [c["indicator"] for c in cards]
    assert got == [c.indicator for c in scenario.cards], (
        scenario.name,
        [(c["indicator"], c["summary"]) for c in cards],
    )
    for card, want in zip(cards, scenario.cards, strict=True):
        for words in want.summary:
            assert words.lower() in card["summary"].lower(), (scenario.name, words, card["summary"])
        for words in want.detail:
            assert words.lower() in card["detail"].lower(), (scenario.name, words, card["detail"])
        deletes = [a["resourceId"] for s in card.get("suggestions", []) for a in s["actions"] if a["type"] == "delete"]
        assert tuple(deletes) == want.delete, (scenario.name, deletes)
    text = json.dumps(cards).lower()
    for words in scenario.absent:
        assert words.lower() not in text, (scenario.name, words)
    assert_cds_cards(cards)


def assert_cds_cards(cards: list[dict[str, Any]]) -> None:
    """The CDS Hooks 2.0 card rules, and this service's promises about every card."""
    assert len({c["uuid"] for c in cards}) == len(cards)
    suggestion_ids = [s["uuid"] for c in cards for s in c.get("suggestions", [])]
    assert len(set(suggestion_ids)) == len(suggestion_ids)
    assert [c["indicator"] for c in cards].count("critical") <= 1
    for card in cards:
        uuid.UUID(card["uuid"])
        assert set(card) <= {
            "uuid",
            "summary",
            "detail",
            "indicator",
            "source",
            "suggestions",
            "selectionBehavior",
            "overrideReasons",
            "links",
        }
        assert 0 < len(card["summary"]) < 140 and "\n" not in card["summary"]
        assert not _DEVELOPER_WORDS.search(card["summary"]), card["summary"]
        assert card["indicator"] in {"info", "warning", "critical"}
        assert card["source"]["label"] and re.match(
            r"^http://testserver/pages/(drugs|regimens)/[a-z0-9-]+$", card["source"]["url"]
        )
        assert "not medical advice" in card["detail"]
        assert len(card["detail"]) < 2000
        for link in card.get("links", []):
            assert link["type"] == "absolute" and "/pages/" in link["url"] and link["label"]
        for reason in card.get("overrideReasons", []):
            assert reason["code"] and reason["system"] and reason["display"]
        if card["indicator"] != "info":
            assert card.get("overrideReasons"), card["summary"]
        if "suggestions" in card:
            assert card["selectionBehavior"] == "at-most-one"
            for suggestion in card["suggestions"]:
                uuid.UUID(suggestion["uuid"])
                assert suggestion["label"]
                for action in suggestion["actions"]:
                    assert action["type"] == "delete" and action["description"]
                    assert re.match(r"^MedicationRequest/[A-Za-z0-9.-]+$", action["resourceId"])
        else:
            assert "selectionBehavior" not in card


def test_at_least_forty_scenarios() -> None:
    assert len(SCENARIOS) >= 40
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


def test_the_bearer_token_is_sent_to_the_fhir_server(client: TestClient, fhir_server: str) -> None:
    FhirHandler.seen.clear()
    body = order_sign(
        order("n1", reference="Medication/med-ntx", dosage_=daily(50)),
        prefetch=EMPTY,
        fhir_server=fhir_server,
        token="tok-123",
    )
    assert client.post(SIGN, json=body).status_code == 200
    assert [auth for _, auth in FhirHandler.seen] == ["Bearer tok-123"]


def test_same_request_same_uuids_other_hook_instance_other_uuids(client: TestClient) -> None:
    body = order_sign(order("n1", LDN, dosage_=NIGHTLY), oxy_order())
    first = client.post(SIGN, json=body).json()["cards"]
    again = client.post(SIGN, json=body).json()["cards"]
    assert [c["uuid"] for c in first] == [c["uuid"] for c in again]
    body["hookInstance"] = str(uuid.uuid4())
    other = client.post(SIGN, json=body).json()["cards"]
    assert not {c["uuid"] for c in first} & {c["uuid"] for c in other}


def test_a_fhir_server_that_never_answers_costs_at_most_the_time_limit(client: TestClient, silent_fhir: str) -> None:
    import time

    body = order_sign(
        order("n1", LDN, dosage_=NIGHTLY), order("x1", reference="Medication/9"), fhir_server=silent_fhir, token="t"
    )
    started = time.monotonic()
    response = client.post(SIGN, json=body)
    elapsed = time.monotonic() - started
    limit = client.app.state.settings.cds_fhir_timeout_seconds  # type: ignore[attr-defined]
    assert response.status_code == 200 and elapsed < limit + 1.5, elapsed
    cards = response.json()["cards"]
    assert [c["indicator"] for c in cards] == ["warning", "info"]
    assert "Medication/9" in cards[0]["detail"] and "active medications" in cards[0]["detail"]
