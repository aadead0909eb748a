"""The closed vocabulary of evidence levels.

An evidence level says how strong the best checked evidence for a claim is, by its design. It never
says how enthusiastic a source was, and it does not say which way the result went: that is
``evidence_direction`` (a negative randomized trial is still a randomized trial).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EvidenceLevel(StrEnum):
    REGULATORY_APPROVAL = "regulatory-approval"
    SYSTEMATIC_REVIEW = "systematic-review"
    RANDOMIZED_TRIAL = "randomized-controlled-trial"
    UNCONTROLLED_STUDY = "uncontrolled-study"
    MECHANISTIC_STUDY = "mechanistic-study"
    SOURCE_CLAIM = "source-claim"


class EvidenceDirection(StrEnum):
    BENEFIT = "benefit"
    MIXED = "mixed"
    NO_BENEFIT = "no-benefit"
    NOT_ASSESSED = "not-assessed"


@dataclass(frozen=True, slots=True)
class LevelDefinition:
    level: EvidenceLevel
    rank: int
    title: str
    definition: str


DEFINITIONS: tuple[LevelDefinition, ...] = (
    LevelDefinition(
        EvidenceLevel.REGULATORY_APPROVAL,
        1,
        "Regulatory approval",
        "A regulator (the FDA) approved the drug for this use; the label or regulatory record is cited.",
    ),
    LevelDefinition(
        EvidenceLevel.SYSTEMATIC_REVIEW,
        2,
        "Systematic review",
        "A systematic review (for example a Cochrane review) of controlled trials addresses this use.",
    ),
    LevelDefinition(
        EvidenceLevel.RANDOMIZED_TRIAL,
        3,
        "Randomized controlled trial",
        "At least one checked randomized, placebo-controlled trial addresses this use, whatever its result.",
    ),
    LevelDefinition(
        EvidenceLevel.UNCONTROLLED_STUDY,
        4,
        "Pilot or uncontrolled study",
        "Only open-label, single-blind, pilot or observational studies have been checked.",
    ),
    LevelDefinition(
        EvidenceLevel.MECHANISTIC_STUDY,
        5,
        "Mechanistic or preclinical study",
        "Laboratory, animal or mechanistic work supports the claim; no checked clinical study.",
    ),
    LevelDefinition(
        EvidenceLevel.SOURCE_CLAIM,
        6,
        "Claimed by a source, no checked study",
        "A source states it (for example the seed article), but no study has been checked for it.",
    ),
)

DIRECTION_WORDS: dict[EvidenceDirection, str] = {
    EvidenceDirection.BENEFIT: "supports",
    EvidenceDirection.MIXED: "mixed",
    EvidenceDirection.NO_BENEFIT: "no benefit",
    EvidenceDirection.NOT_ASSESSED: "not assessed",
}
"""The direction of the evidence in a clinician's words. Only ``benefit`` reads as support: a negative
or mixed trial never does, whatever its design."""


def direction_words(direction: str | None) -> str:
    """``supports``, ``mixed``, ``no benefit`` or ``not assessed`` (also for an unknown value)."""
    try:
        return DIRECTION_WORDS[EvidenceDirection(direction or "not-assessed")]
    except ValueError:
        return DIRECTION_WORDS[EvidenceDirection.NOT_ASSESSED]


RANK: dict[EvidenceLevel, int] = {d.level: d.rank for d in DEFINITIONS}


def strongest(levels: list[EvidenceLevel]) -> EvidenceLevel | None:
    """The strongest level of several (lowest rank), or None for none."""
    return min(levels, key=RANK.__getitem__) if levels else None
