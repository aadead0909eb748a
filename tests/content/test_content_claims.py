"""Content sentences that say no more than the sources (issue 11, "What was seen" 7).

Each rule is checked over the whole dataset, not only the sentence where it was found; the facts are
those of /work/shared/reference/naltrexone-facts.md and the seed article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from app.content.files import read_dataset
from tests.conftest import SHARED

DATASET = read_dataset()
SEED = SHARED / "seed" / "000_5952fde992b16543.txt"
SOURCES = {s.slug: s for s in DATASET.sources}
REGIMENS = {r.slug: r for r in DATASET.regimens}
ARTICLE = "vardeman-2023-ldn-article"


def _texts(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every text of the dataset, with where it stands."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            slug = getattr(item, "slug", n)
            yield from _texts(item, f"{where}[{slug}]")
    elif isinstance(value, str):
        yield where, value


ALL_TEXTS = list(_texts(DATASET))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- the LDN dose sentences --------------------------------------------------------------------------

OVERCLAIMS = [
    "the dose used in the checked trials that state one",
    "the dose used in most of the checked adult trials",
    "checked studies in adults",
]


@pytest.mark.parametrize("phrase", OVERCLAIMS)
def test_no_sentence_says_more_than_the_trials(phrase: str) -> None:
    found = [where for where, text in ALL_TEXTS if phrase in _squash(text).lower()]
    assert not found, found


def _ldn_study_doses(regimen: str) -> list[str]:
    return [s.dose for i in DATASET.indications if i.regimen == regimen for s in i.studies if s.dose]


def test_ldn_reference_reason_names_the_trials_that_used_another_dose() -> None:
    reference = next(r for r in REGIMENS["low-dose-naltrexone"].dose_ranges if r.is_reference)
    doses = _ldn_study_doses("low-dose-naltrexone")
    assert any("twice daily" in d for d in doses)  # Mischoulon 2017: 1 mg twice daily
    reason = _squash(reference.reference_reason or "")
    assert "Mischoulon" in reason and "1 mg twice daily" in reason
    assert "Smith 2013" in reason and "0.1 mg/kg" in reason


def test_a_regimen_frequency_covers_every_frequency_its_trials_used() -> None:
    for regimen in DATASET.regimens:
        for dose in _ldn_study_doses(regimen.slug):
            if "twice daily" in dose:
                assert "twice daily" in regimen.frequency, (regimen.slug, regimen.frequency, dose)


# --- paediatric: no frequency in the facts ---------------------------------------------------------------


def test_a_range_without_a_stated_frequency_is_per_administration_only() -> None:
    paediatric = REGIMENS["low-dose-naltrexone-paediatric"]
    for r in paediatric.dose_ranges:
        assert r.per == "administration-only", r.slug
        assert "frequency" in (r.note or "")
    assert "not stated" in paediatric.frequency
    assert not paediatric.frequency.startswith("daily")


# --- roles: approval only by a label or a regulatory record ---------------------------------------------


def test_only_regulatory_sources_carry_the_approval_role() -> None:
    for indication in DATASET.indications:
        for link in indication.sources:
            if link.role == "approval":
                kind = SOURCES[link.source].kind
                assert kind in {"label", "regulatory-record"}, (indication.slug, link.source, kind)


def test_younger_2014_is_not_an_approval_source() -> None:
    oud = next(i for i in DATASET.indications if i.slug == "oral-naltrexone-opioid-use-disorder")
    roles = {link.source: link.role for link in oud.sources}
    assert roles["younger-2014"] != "approval"


# --- condition codes: our labels are not official titles --------------------------------------------------

# The titles the reference facts give as titles (section 6: F32 "now titled 'Depressive episode'").
TITLES_IN_THE_REFERENCE = {("icd-10-cm", "F32"): "Depressive episode"}


def test_no_code_display_unless_the_reference_gives_the_title() -> None:
    for condition in DATASET.conditions:
        for code in condition.codes:
            if code.display is not None:
                assert TITLES_IN_THE_REFERENCE.get((code.system, code.code)) == code.display, (
                    condition.slug,
                    code.code,
                    code.display,
                )


def test_no_two_codes_share_a_display() -> None:
    seen: dict[str, str] = {}
    for condition in DATASET.conditions:
        for code in condition.codes:
            if code.display:
                assert code.display not in seen or seen[code.display] == code.code, (code.code, seen[code.display])
                seen[code.display] = code.code


# --- quotes from the seed article: verbatim and in the article's order ------------------------------------


def _quotes() -> Iterator[tuple[str, str]]:
    for i in DATASET.indications:
        if i.source_quote and any(link.source == ARTICLE for link in i.sources):
            yield i.slug, i.source_quote
    for regimen in DATASET.regimens:
        for r in regimen.dose_ranges:
            if r.quote and r.source == ARTICLE:
                yield r.slug, r.quote


@pytest.mark.parametrize(("slug", "quote"), list(_quotes()))
def test_article_quotes_stand_verbatim_and_in_order(slug: str, quote: str) -> None:
    if not SEED.exists():
        pytest.skip(f"{SEED} is not present on this machine")
    seed = _squash(SEED.read_text(encoding="utf-8"))
    position = -1
    for part in _squash(quote).split(" […] "):
        found = seed.find(part, position + 1)
        assert found > position, (slug, part)
        position = found


# --- typos --------------------------------------------------------------------------------------------------

TYPOS = ["anxiety it ", "approved to help treat it."]


@pytest.mark.parametrize("typo", TYPOS)
def test_no_known_typo(typo: str) -> None:
    assert not [where for where, text in ALL_TEXTS if typo in _squash(text)]


def test_no_pronoun_without_its_noun_ends_a_summary() -> None:
    for where, text in ALL_TEXTS:
        if where.endswith("plain_summary"):
            assert not re.search(r"\btreat it\.", text), where
