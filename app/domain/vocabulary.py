"""Closed vocabularies of the knowledge model (besides evidence levels)."""

from __future__ import annotations

from enum import StrEnum


class Verification(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ARTICLE_CLAIM = "article-claim"


class SourceKind(StrEnum):
    LABEL = "label"
    REGULATORY_RECORD = "regulatory-record"
    RCT = "rct"
    PILOT = "pilot"
    REVIEW = "review"
    SYSTEMATIC_REVIEW = "systematic-review"
    MECHANISTIC_STUDY = "mechanistic-study"
    ARTICLE = "article"
    DATABASE = "database"


class ApprovalStatus(StrEnum):
    APPROVED = "approved"
    OFF_LABEL = "off-label"


class Route(StrEnum):
    ORAL = "oral"
    INTRAMUSCULAR = "intramuscular"


class TargetFamily(StrEnum):
    CLASSICAL_OPIOID = "classical-opioid"
    NON_CLASSICAL_OPIOID = "non-classical-opioid"
    INNATE_IMMUNE = "innate-immune"


class ConditionCategory(StrEnum):
    ADDICTION = "addiction"
    AUTOIMMUNE_INFLAMMATORY = "autoimmune-inflammatory"
    PAIN = "pain"
    MENTAL_HEALTH = "mental-health"
    NEUROLOGICAL = "neurological"
    NEURODEVELOPMENTAL = "neurodevelopmental"
    GASTROINTESTINAL = "gastrointestinal"
    INFECTIOUS = "infectious"
    REPRODUCTIVE_ENDOCRINE = "reproductive-endocrine"
    ONCOLOGY = "oncology"


class CodeSystem(StrEnum):
    ICD10CM = "icd-10-cm"
    SNOMED = "snomed-ct"


class ClaimBasis(StrEnum):
    REGULATORY = "regulatory"
    CHECKED_STUDIES = "checked-studies"
    ARTICLE_ONLY = "article-only"


class StudyOutcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    MIXED = "mixed"
    SAFETY = "safety"
    NOT_REPORTED = "not-reported"


class MechanismAttribution(StrEnum):
    REFERENCE_CHECKED = "reference-checked"
    ARTICLE_CLAIM = "article-claim"


# FHIR/URI forms of the code systems, from ../shared/reference/naltrexone-facts.md §7.
CODE_SYSTEM_URIS: dict[str, str] = {
    "icd-10-cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "snomed-ct": "http://snomed.info/sct",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "atc": "http://www.whocc.no/atc",
    "unii": "http://fdasis.nlm.nih.gov",
    "ucum": "http://unitsofmeasure.org",
}
CODE_SYSTEM_LABELS: dict[str, str] = {
    "icd-10-cm": "ICD-10-CM",
    "snomed-ct": "SNOMED CT",
    "rxnorm": "RxNorm",
    "atc": "WHO ATC",
    "unii": "UNII",
}
"""How a code system is named to people (``ICD-10-CM B27.0``)."""
CODE_SYSTEM_OIDS: dict[str, str] = {
    "rxnorm": "2.16.840.1.113883.6.88",
    "snomed-ct": "2.16.840.1.113883.6.96",
    "icd-10-cm": "2.16.840.1.113883.6.90",
    "atc": "2.16.840.1.113883.6.73",
    "unii": "2.16.840.1.113883.4.9",
    "ucum": "2.16.840.1.113883.6.8",
}
