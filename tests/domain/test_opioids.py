"""Recognising opioids (reference §8 and §8a), as pure functions: a table of what orders carry."""

from __future__ import annotations

import pytest

from app.domain.opioids import OPIOID_BRANDS, OPIOID_INGREDIENTS, classify, find_opioid, opioid_brand

# (what the order carries: ATC codes, texts) -> (status, basis, evidence, ingredient)
CASES: list[tuple[str, list[str], list[str], str, str | None, str | None, str | None]] = [
    ("ATC N02AA01 with a meaningless name", ["N02AA01"], ["Brand X"], "opioid", "atc", "N02AA01", None),
    ("ATC lower case", ["n02ae01"], [], "opioid", "atc", "N02AE01", None),
    ("ATC N07BC02 methadone", ["N07BC02"], [], "opioid", "atc", "N07BC02", None),
    ("ATC N07BC04 lofexidine is not an opioid", ["N07BC04"], ["Lucemyra"], "not-opioid", None, None, None),
    ("ATC N07BB04 naltrexone", ["N07BB04"], ["naltrexone"], "not-opioid", None, None, None),
    (
        "non-opioid ATC but an opioid name",
        ["N02BE01"],
        ["oxycodone and acetaminophen"],
        "opioid",
        "ingredient",
        "oxycodone",
        "oxycodone",
    ),
    ("ingredient, upper case", [], ["OXYCODONE HCL 5 MG TABLET"], "opioid", "ingredient", "oxycodone", "oxycodone"),
    (
        "ingredient in a combination",
        [],
        ["hydrocodone bitartrate / acetaminophen"],
        "opioid",
        "ingredient",
        "hydrocodone",
        "hydrocodone",
    ),
    ("pethidine (meperidine)", [], ["Pethidine 50 mg injection"], "opioid", "ingredient", "pethidine", "pethidine"),
    (
        "buprenorphine with naloxone",
        [],
        ["buprenorphine 8 MG / naloxone 2 MG"],
        "opioid",
        "ingredient",
        "buprenorphine",
        "buprenorphine",
    ),
    ("brand OxyContin", [], ["OxyContin 10 mg ER tablet"], "opioid", "brand", "OxyContin", "oxycodone"),
    ("brand in a coding display, odd case", [], ["", "oXyCoNtIn 20 MG"], "opioid", "brand", "OxyContin", "oxycodone"),
    ("two-word brand", [], ["MS Contin 30 mg"], "opioid", "brand", "MS Contin", "morphine"),
    ("two-word brand hyphenated", [], ["ms-contin 30mg"], "opioid", "brand", "MS Contin", "morphine"),
    ("Tylenol #3", [], ["Tylenol #3 tablet"], "opioid", "brand", "Tylenol #3", "codeine"),
    ("Suboxone (contains naloxone)", [], ["Suboxone film"], "opioid", "brand", "Suboxone", "buprenorphine"),
    ("Zubsolv (contains naloxone)", [], ["ZUBSOLV"], "opioid", "brand", "Zubsolv", "buprenorphine"),
    ("Targiniq (contains naloxone)", [], ["Targiniq ER 10/5"], "opioid", "brand", "Targiniq", "oxycodone"),
    ("Duragesic", [], ["Duragesic 25 mcg/hr"], "opioid", "brand", "Duragesic", "fentanyl"),
    ("naloxone is not an opioid", [], ["Narcan (naloxone) nasal spray"], "not-opioid", None, None, None),
    ("nalmefene is not an opioid", [], ["nalmefene"], "not-opioid", None, None, None),
    ("naltrexone is not an opioid", [], ["naltrexone 50 mg"], "not-opioid", None, None, None),
    ("a brand name inside another word is not a brand", [], ["Norcotine 5 mg"], "unrecognised", None, None, None),
    ("an ingredient inside another word is not it", [], ["morphinexyz"], "unrecognised", None, None, None),
    # A name that names no opioid the reference lists is not "not an opioid": a brand the reference does not
    # list (Subsys is fentanyl) cannot be ruled out by name. Only an ATC code, or an antagonist, rules out.
    ("a brand the reference does not list", [], ["Subsys 400 mcg spray"], "unrecognised", None, None, None),
    ("a plain non-opioid name", [], ["sertraline 50 mg tablet"], "unrecognised", None, None, None),
    ("a non-opioid ATC code rules out", ["N07BB04"], ["Revia 50 mg tablet"], "not-opioid", None, None, None),
    ("nothing readable: unknown", [], ["", "  "], "unknown", None, None, None),
    ("no codes, no texts: unknown", [], [], "unknown", None, None, None),
]


@pytest.mark.parametrize(
    ("name", "atc", "texts", "status", "basis", "evidence", "ingredient"), CASES, ids=[c[0] for c in CASES]
)
def test_classify(
    name: str,
    atc: list[str],
    texts: list[str],
    status: str,
    basis: str | None,
    evidence: str | None,
    ingredient: str | None,
) -> None:
    check = classify(atc, texts)
    assert check.status == status, name
    if status == "opioid":
        assert check.finding is not None
        assert (check.finding.basis, check.finding.evidence, check.finding.ingredient) == (basis, evidence, ingredient)
    else:
        assert check.finding is None


def test_every_reference_ingredient_and_brand_is_recognised() -> None:
    for ingredient in OPIOID_INGREDIENTS:
        finding = find_opioid([], [f"{ingredient.upper()} 10 MG"])
        assert finding is not None and finding.ingredient == ingredient
    for brand, ingredient in OPIOID_BRANDS.items():
        assert opioid_brand(f"{brand} tablet") == (brand, ingredient)
        assert ingredient in OPIOID_INGREDIENTS


def test_the_finding_says_why_in_words() -> None:
    finding = find_opioid([], ["OxyContin 10 mg ER tablet"])
    assert finding is not None and finding.because == "brand OxyContin (oxycodone)"
    finding = find_opioid(["N02AA01"], ["Brand X"])
    assert finding is not None and finding.because == "ATC N02AA01" and finding.name == "Brand X"


def test_kept_classifications_answer_as_fresh_ones_and_stay_bounded() -> None:
    """classify() keeps its answers for short names (an EHR sends the same few medications again and again):
    a kept answer equals one computed afresh, in any order of calls, and the memo never outgrows its bound;
    long names are never kept."""
    from app.domain import opioids

    names = [*OPIOID_INGREDIENTS, *OPIOID_BRANDS, "naltrexone 4.5 mg", "ibuprofen", ""]
    cases = [
        ((code,) if code else (), (f"{name} {n} mg",) if name else ())
        for n in range(3)
        for name in names
        for code in ("", "N02AA01", "N02BE01")
    ]
    for codes, texts in cases + cases:  # the second pass answers from the memo
        assert classify(codes, texts, name=None) == opioids._classify(codes, texts, None), (codes, texts)
    opioids._CHECKS.clear()
    for n in range(opioids.CHECKS_KEPT + 500):
        classify((), (f"product {n}",))
        assert len(opioids._CHECKS) <= opioids.CHECKS_KEPT
    opioids._CHECKS.clear()
    long_name = "oxycodone " + "x" * opioids.CHECK_KEPT_CHARS
    assert classify((), (long_name,)).status == "opioid" and not opioids._CHECKS
