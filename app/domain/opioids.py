"""Recognising an opioid in a medication order, for naltrexone's opioid contraindication.

From ../shared/reference/naltrexone-facts.md §8 and §8a (nothing here beyond it):

- the WHO ATC class where the order carries one: N02A (opioid analgesics) and N07BC (drugs used in
  opioid dependence), except N07BC04 lofexidine, an alpha-2 agonist;
- the ingredient names of §8, matched as whole words, case-insensitively;
- the US brand names of §8a, each with the opioid ingredient it contains (a brand that also contains
  naloxone, such as Suboxone, Zubsolv or Targiniq, still contains an opioid).

Naloxone, nalmefene and naltrexone are opioid antagonists, never opioids. An order that carries only
codes (no ATC, no readable name) cannot be classified from the reference: the reference records no RxNorm
code of an opioid product, so :func:`classify` answers ``"unknown"`` and the caller must say so.

Only an ATC code outside the opioid classes, or a name that names an antagonist, says a medication is
not an opioid. A name that names no opioid the reference lists is ``"unrecognised"``: the brand list is
of common US brands, so a brand it does not hold (a fentanyl spray sold under its own name) cannot be
ruled out by name, and the caller says it was not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

OPIOID_ATC_PREFIXES: Final = ("N02A", "N07BC")
NOT_OPIOID_ATC: Final = frozenset({"N07BC04"})
OPIOID_INGREDIENTS: Final = (
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
ANTAGONISTS: Final = ("naloxone", "nalmefene", "naltrexone")

#: §8a: brand name -> the opioid ingredient it contains.
OPIOID_BRANDS: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("OxyContin", "Roxicodone", "Xtampza", "Oxaydo", "Percocet", "Percodan", "Endodan", "Tylox", "Targiniq"),
        "oxycodone",
    ),
    **dict.fromkeys(("Vicodin", "Norco", "Lortab", "Lorcet", "Vicoprofen", "Zohydro", "Hysingla"), "hydrocodone"),
    **dict.fromkeys(("Dilaudid", "Exalgo"), "hydromorphone"),
    **dict.fromkeys(("MS Contin", "Kadian", "Avinza"), "morphine"),
    **dict.fromkeys(("Duragesic", "Actiq", "Fentora"), "fentanyl"),
    "Demerol": "meperidine",
    **dict.fromkeys(("Dolophine", "Methadose"), "methadone"),
    **dict.fromkeys(("Suboxone", "Zubsolv", "Subutex", "Sublocade", "Butrans", "Belbuca"), "buprenorphine"),
    "Ultram": "tramadol",
    "Nucynta": "tapentadol",
    "Opana": "oxymorphone",
    **dict.fromkeys(("Tylenol with Codeine", "Tylenol #3"), "codeine"),
}

_WORD: Final = re.compile(r"[a-z]+")


def _brand_pattern(brand: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s-]+", brand.lower())]
    return re.compile(r"(?<![a-z0-9])" + r"[\s-]*".join(words) + r"(?![a-z0-9])")


_BRANDS: Final = tuple((brand, ingredient, _brand_pattern(brand)) for brand, ingredient in OPIOID_BRANDS.items())
_ANY_BRAND: Final = re.compile("|".join(f"(?:{pattern.pattern})" for _, _, pattern in _BRANDS))
"""Any brand at all: one pass over a text that names none (most do), before the ordered search."""


@dataclass(frozen=True, slots=True)
class OpioidFinding:
    """Why a medication is taken for an opioid."""

    name: str
    """The medication as the order names it (or a code when it names nothing)."""
    basis: Literal["atc", "ingredient", "brand"]
    evidence: str
    """The ATC code, the ingredient name, or the brand name (as spelled in the reference)."""
    ingredient: str | None
    """The opioid ingredient (``None`` when only an ATC class says it is an opioid)."""

    @property
    def because(self) -> str:
        """How it was recognised, in words: ``brand OxyContin (oxycodone)``, ``ATC N02AA01``."""
        if self.basis == "atc":
            return f"ATC {self.evidence}"
        if self.basis == "brand":
            return f"brand {self.evidence} ({self.ingredient})"
        return f"ingredient {self.evidence}"


@dataclass(frozen=True, slots=True)
class OpioidCheck:
    """The answer for one medication: an opioid, not an opioid, a name the reference does not recognise
    (``unrecognised``), or nothing readable at all (``unknown``)."""

    status: Literal["opioid", "not-opioid", "unrecognised", "unknown"]
    finding: OpioidFinding | None = None


_ATC_SUBGROUP: Final = re.compile(r"[A-Z][0-9]{2}[A-Z]{2}(?:[0-9]{2})?")
"""An ATC code that can rule an opioid out: a chemical subgroup (``N07BB``) or a substance (``M01AE01``). A
code that is not ATC's shape (``XYZ``), or a wider group that holds the opioid classes (``N02``, ``N07B``),
says nothing either way."""


def opioid_by_atc(code: str) -> bool:
    value = code.strip().upper()
    return value.startswith(OPIOID_ATC_PREFIXES) and value not in NOT_OPIOID_ATC


def opioid_ingredient(text: str) -> str | None:
    """The first opioid ingredient named as a whole word in ``text`` (antagonists are never opioids)."""
    words = set(_WORD.findall(text.lower()))
    return next((name for name in OPIOID_INGREDIENTS if name in words), None)


def opioid_brand(text: str) -> tuple[str, str] | None:
    """The §8a brand named in ``text`` (whole words, any case) and its opioid ingredient."""
    lowered = text.lower()
    if _ANY_BRAND.search(lowered) is None:
        return None
    for brand, ingredient, pattern in _BRANDS:
        if pattern.search(lowered):
            return brand, ingredient
    return None


def find_opioid(atc_codes: Iterable[str], texts: Iterable[str], *, name: str | None = None) -> OpioidFinding | None:
    """The first sign of an opioid: an opioid ATC code, then an ingredient name, then a brand name.

    Every sign is looked at (an order with a non-opioid ATC code and an opioid in its name is an opioid):
    for a contraindication a false alarm costs a click, a miss costs a patient.
    """
    readable = [t for t in texts if t and t.strip()]
    label = name or next(iter(readable), None) or "medication"
    for code in atc_codes:
        if opioid_by_atc(code):
            return OpioidFinding(name=label, basis="atc", evidence=code.strip().upper(), ingredient=None)
    for text in readable:
        ingredient = opioid_ingredient(text)
        if ingredient:
            return OpioidFinding(name=label, basis="ingredient", evidence=ingredient, ingredient=ingredient)
    for text in readable:
        brand = opioid_brand(text)
        if brand:
            return OpioidFinding(name=label, basis="brand", evidence=brand[0], ingredient=brand[1])
    return None


def classify(atc_codes: Iterable[str], texts: Iterable[str], *, name: str | None = None) -> OpioidCheck:
    """Opioid; not an opioid (an ATC subgroup or substance code outside the opioid classes, or an antagonist
    named);
    ``unrecognised`` (only names, none the reference knows); ``unknown`` (neither an ATC code nor a name).

    An EHR sends the same few medications over and over: the answer for short names and codes is kept
    (bounded), keyed by exactly what it reads."""
    codes = tuple(atc_codes)
    names = tuple(texts)
    key = (codes, names, name)
    known = _CHECKS.get(key)
    if known is not None:
        return known
    check = _classify(codes, names, name)
    if sum(map(len, names)) + sum(map(len, codes)) + len(name or "") <= CHECK_KEPT_CHARS:
        if len(_CHECKS) >= CHECKS_KEPT:
            _CHECKS.clear()
        _CHECKS[key] = check
    return check


CHECKS_KEPT: Final = 2048
"""Classifications kept (medications seen again and again)."""
CHECK_KEPT_CHARS: Final = 400
"""Only medications named in fewer characters are kept: the memo stays small whatever the requests carry."""
_CHECKS: dict[tuple[tuple[str, ...], tuple[str, ...], str | None], OpioidCheck] = {}


def _classify(atc_codes: tuple[str, ...], texts: tuple[str, ...], name: str | None) -> OpioidCheck:
    codes = [c for c in atc_codes if c and c.strip()]
    readable = [t for t in texts if t and t.strip()]
    finding = find_opioid(codes, readable, name=name)
    if finding is not None:
        return OpioidCheck("opioid", finding)
    if any(_ATC_SUBGROUP.fullmatch(c.strip().upper()) for c in codes) or any(
        antagonist_named(text) for text in readable
    ):
        return OpioidCheck("not-opioid")
    if readable:
        return OpioidCheck("unrecognised")
    return OpioidCheck("unknown")


def antagonist_named(text: str) -> bool:
    """Whether ``text`` names an opioid antagonist (naloxone, nalmefene, naltrexone) as a whole word."""
    return not ANTAGONIST_WORDS.isdisjoint(_WORD.findall(text.lower()))


ANTAGONIST_WORDS: Final = frozenset(ANTAGONISTS)
