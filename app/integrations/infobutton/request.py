"""Parsing and validating a URL-based Infobutton knowledge request (pure: no I/O).

Every parameter family of the HL7 URL-based implementation guide (Context-Aware Knowledge Retrieval,
Release 4) is accepted; the ones that do not change our answer are ignored, as MedlinePlus Connect does. A
code system we hold no codes of is not an error: it gives an empty feed. Names outside the guide are a 400 so
that a misspelt parameter does not silently change the answer, except the conventional cache buster ``_``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.vocabulary import CODE_SYSTEM_LABELS, CODE_SYSTEM_OIDS

SYSTEM_BY_OID: dict[str, str] = {oid: system for system, oid in CODE_SYSTEM_OIDS.items()}
SUPPORTED_SYSTEMS = ("icd-10-cm", "snomed-ct", "rxnorm", "atc", "unii")
SYSTEM_LABELS = CODE_SYSTEM_LABELS
RESPONSE_TYPES = ("text/xml", "application/json")
RECIPIENTS = ("PAT", "PROV", "PAYOR")  # the guide's values; PAT gets plain language, the others clinical text
GENDERS = ("F", "M", "UN")

# Parameter families of the URL-based implementation guide (each with its sub-attributes: .c, .cs, .dn, .ot,
# .v, .u, .n, .id.root, ..., and numbered repeats such as observation.v.c1). A request may carry any of them;
# the ones that do not change our answer are accepted and ignored. Anything else is a 400.
IG_PREFIXES = (
    "mainSearchCriteria.",
    "knowledgeResponseType",
    "knowledgeRequestNotification.",
    "executionMode",
    "informationRecipient",
    "performer",
    "patientPerson.",
    "age.",
    "ageGroup.",
    "taskContext.",
    "subTopic.",
    "encounter.",
    "serviceDeliveryLocation.",
    "observation.",
    "severityObservation.",
    "locationOfInterest.",
    "holder.",
    "assignedEntity.",
    "assignedAuthorizedPerson.",
    "representedOrganization.",
)
#: Conventional cache busters (jQuery's ``_=timestamp``): accepted and ignored.
CACHE_BUSTERS = frozenset({"_"})
OID_PATTERN = r"^[0-2](\.(0|[1-9][0-9]{0,19})){1,30}$"
OID = re.compile(OID_PATTERN)

# UCUM time units an age may come in, as years.
_AGE_UNITS = {
    "a": Decimal(1),
    "mo": Decimal(1) / Decimal(12),
    "wk": Decimal(7) / Decimal("365.25"),
    "d": Decimal(1) / Decimal("365.25"),
}
CODE_PATTERN = r"^[A-Za-z0-9.\-]{1,30}$"
_CODE = re.compile(CODE_PATTERN)


class InfobuttonRequestError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class KnowledgeRequest:
    code: str
    system: str | None  # our system name; None when .cs was not given (or names a system we do not hold)
    system_oid: str | None
    held: bool  # False when .cs names a code system we hold no codes of: the answer is an empty feed
    display_name: str | None
    response_type: str
    recipient: str
    age_years: Decimal | None
    gender: str | None
    language: str


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InfobuttonRequestError(name, "given more than once")
    return values[0] or None  # empty counts as absent; codes are case-sensitive and never trimmed


def unknown_parameters(names: Iterable[str]) -> list[str]:
    return sorted({n for n in names if not n.startswith(IG_PREFIXES) and n not in CACHE_BUSTERS})


def parse_request(params: dict[str, list[str]]) -> KnowledgeRequest:
    """Validate the parameters that change the answer; raise InfobuttonRequestError naming the field."""
    unknown = unknown_parameters(params)
    if unknown:
        raise InfobuttonRequestError(unknown[0], "not an Infobutton URL-based request parameter")
    code = _one(params, "mainSearchCriteria.v.c")
    if code is None:
        raise InfobuttonRequestError("mainSearchCriteria.v.c", "required: the code of the concept of interest")
    if not _CODE.match(code):
        raise InfobuttonRequestError("mainSearchCriteria.v.c", "not a code (letters, digits, '.', '-')")
    oid = _one(params, "mainSearchCriteria.v.cs")
    system = None
    held = True
    if oid is not None:
        if not OID.match(oid):
            raise InfobuttonRequestError("mainSearchCriteria.v.cs", "not an OID (digits separated by dots)")
        system = SYSTEM_BY_OID.get(oid)
        if system not in SUPPORTED_SYSTEMS:  # e.g. ICD-9-CM: a valid request we hold nothing for
            system, held = None, False
    response_type = _one(params, "knowledgeResponseType") or "text/xml"
    if response_type not in RESPONSE_TYPES:
        raise InfobuttonRequestError("knowledgeResponseType", "use text/xml (Atom) or application/json")
    recipient = _one(params, "informationRecipient") or "PROV"
    if recipient not in RECIPIENTS:
        raise InfobuttonRequestError("informationRecipient", "use PAT (patient), PROV (provider) or PAYOR")
    gender = _one(params, "patientPerson.administrativeGenderCode.c")
    if gender is not None and gender not in GENDERS:
        raise InfobuttonRequestError("patientPerson.administrativeGenderCode.c", "use F, M or UN")
    age_years = _age(params)
    language = (_one(params, "informationRecipient.languageCode.c") or "en").lower()
    return KnowledgeRequest(
        code=code,
        system=system,
        system_oid=oid,
        held=held,
        display_name=_one(params, "mainSearchCriteria.v.dn"),
        response_type=response_type,
        recipient=recipient,
        age_years=age_years,
        gender=gender,
        language=language,
    )


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?")


def _age(params: dict[str, list[str]]) -> Decimal | None:
    value = _one(params, "age.v.v")
    unit = _one(params, "age.v.u") or "a"
    if unit not in _AGE_UNITS:
        raise InfobuttonRequestError("age.v.u", "use a UCUM time unit: a, mo, wk or d")
    if value is None:
        return None
    if not _NUMBER.fullmatch(value):
        raise InfobuttonRequestError("age.v.v", "not a number")
    amount = Decimal(value)
    if amount < 0 or amount > 150:
        raise InfobuttonRequestError("age.v.v", "must be between 0 and 150")
    return amount * _AGE_UNITS[unit]
