"""Recognising an opioid in a medication order, for naltrexone's opioid contraindication.

From ../shared/reference/naltrexone-facts.md §8: the WHO ATC class where the order carries one
(N02A opioid analgesics, N07BC drugs used in opioid dependence, except N07BC04 lofexidine, an
alpha-2 agonist), the ingredient name otherwise. Naloxone, nalmefene and naltrexone are antagonists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPIOID_ATC_PREFIXES = ("N02A", "N07BC")
NOT_OPIOID_ATC = frozenset({"N07BC04"})
OPIOID_INGREDIENTS = (
    "morphine",
    "codeine",
    "dihydrocodeine",
    "hydrocodone",
    "hydromorphone",
    "oxycodone",
    "oxymorphone",
    "fentanyl",
    "sufentanil",
    "remifentanil",
    "alfentanil",
    "meperidine",
    "pethidine",
    "methadone",
    "levomethadone",
    "buprenorphine",
    "butorphanol",
    "nalbuphine",
    "pentazocine",
    "tramadol",
    "tapentadol",
    "tilidine",
    "levorphanol",
    "diamorphine",
    "heroin",
)
ANTAGONISTS = ("naloxone", "nalmefene", "naltrexone")
_WORDS = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class OpioidFinding:
    name: str
    basis: str  # "atc" | "ingredient"
    evidence: str  # the ATC code or the matched ingredient name


def opioid_by_atc(code: str) -> bool:
    value = code.strip().upper()
    return value.startswith(OPIOID_ATC_PREFIXES) and value not in NOT_OPIOID_ATC


def opioid_ingredient(text: str) -> str | None:
    """The first opioid ingredient named as a word in ``text`` (antagonists are never opioids)."""
    words = set(_WORDS.findall(text.lower()))
    return next((name for name in OPIOID_INGREDIENTS if name in words), None)


def find_opioid(atc_codes: list[str], texts: list[str]) -> OpioidFinding | None:
    """ATC first when the order carries one; the ingredient name otherwise."""
    label = next((t for t in texts if t), "medication")
    if atc_codes:
        for code in atc_codes:
            if opioid_by_atc(code):
                return OpioidFinding(name=label, basis="atc", evidence=code.upper())
        return None
    for text in texts:
        ingredient = opioid_ingredient(text)
        if ingredient:
            return OpioidFinding(name=label, basis="ingredient", evidence=ingredient)
    return None
