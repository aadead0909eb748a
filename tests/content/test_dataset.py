"""The curated dataset: valid, sourced, loaded idempotently, exported back to the same form."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlmodel import Session, col

from app import migrate
from app.content import DATA_DIR
from app.content.exporter import export_dataset
from app.content.files import dataset_texts, read_dataset
from app.content.loader import ContentError, load_dataset
from app.db import make_engine
from app.models import DatasetState, Indication, Revision
from app.settings import Settings
from tests.conftest import SHARED

SEED = SHARED / "seed" / "000_5952fde992b16543.txt"


@pytest.fixture(scope="module")
def dataset():  # type: ignore[no-untyped-def]
    return read_dataset()


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")  # each test starts from an empty store
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_every_claim_carries_a_source(dataset) -> None:  # type: ignore[no-untyped-def]
    assert dataset.regimens and dataset.mechanisms and dataset.indications
    for regimen in dataset.regimens:
        assert regimen.dose_ranges, regimen.slug
        for dose_range in regimen.dose_ranges:
            assert dose_range.source, dose_range.slug
        assert sum(r.is_reference for r in regimen.dose_ranges) == 1, f"{regimen.slug}: one reference range"
    for mechanism in dataset.mechanisms:
        assert mechanism.sources, mechanism.slug
    for indication in dataset.indications:
        assert indication.sources, indication.slug
    known = {s.slug for s in dataset.sources}
    cited = {r.source for g in dataset.regimens for r in g.dose_ranges}
    cited |= {s.source for m in dataset.mechanisms for s in m.sources}
    cited |= {s.source for i in dataset.indications for s in i.sources}
    assert cited <= known


def test_identifiers_all_stand_in_the_reference_facts() -> None:
    tool = SHARED / "tools" / "check_identifiers.py"
    if not tool.exists():
        pytest.skip(f"{tool} is not present on this machine")
    result = subprocess.run([sys.executable, str(tool), str(DATA_DIR)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_every_condition_the_article_lists_is_covered(dataset) -> None:  # type: ignore[no-untyped-def]
    """The seed's off-label list, read from the article itself, maps to conditions with indications."""
    if not SEED.exists():
        pytest.skip(f"{SEED} is not present on this machine")
    text = SEED.read_text(encoding="utf-8")
    listed = re.search(r"studied in the treatment of (.+?)\. The full list", text, re.S)
    assert listed, "the seed article's off-label list was not found"
    terms = [t.strip() for t in re.split(r",| and |and ", listed.group(1)) if t.strip()]
    terms = [re.sub(r"^(it even appears to have favorable effects on|even appears.*on)\s*", "", t) for t in terms]
    names = {c.slug: " ".join([c.name, *c.synonyms]).lower().replace("’", "'") for c in dataset.conditions}
    with_indication = {i.condition for i in dataset.indications}
    for term in terms:
        key = term.lower().removeprefix("reactivated ").strip()
        if key.startswith("it "):
            key = "fertility"
        hits = [slug for slug, blob in names.items() if key.split()[0] in blob]
        assert hits, f"no condition for the article's '{term}'"
        assert any(h in with_indication for h in hits), f"'{term}' has no indication"


def test_article_only_claims_have_the_lowest_evidence_level(dataset) -> None:  # type: ignore[no-untyped-def]
    for indication in dataset.indications:
        if indication.claim_basis == "article-only":
            assert indication.evidence_level == "source-claim", indication.slug
            assert indication.status == "off-label", indication.slug
        if indication.status == "approved":
            assert indication.evidence_level == "regulatory-approval", indication.slug


def test_disagreeing_sources_both_stand(dataset) -> None:  # type: ignore[no-untyped-def]
    """The article's '< 4 mg' and the reviews' 1–5 mg / 4.5 mg are all kept, attributed."""
    ldn = next(r for r in dataset.regimens if r.slug == "low-dose-naltrexone")
    sources = {r.source for r in ldn.dose_ranges}
    assert len(sources) >= 3
    article = [r for r in ldn.dose_ranges if r.verification == "article-claim"]
    assert article and article[0].max is not None and not article[0].max_inclusive
    addiction = next(r for r in dataset.regimens if r.slug == "oral-naltrexone-addiction")
    maxima = {r.max for r in addiction.dose_ranges if r.period_value == 1}
    assert 200 in maxima and 100 in maxima, "the article's 200 mg and the review's 100 mg both stand"


def test_files_are_in_canonical_form(dataset) -> None:  # type: ignore[no-untyped-def]
    """What the exporter writes is byte-for-byte what is committed (reviewable diffs)."""
    for name, text in dataset_texts(dataset).items():
        assert (DATA_DIR / name).read_text(encoding="utf-8") == text, f"{name} is not canonical: run export"


def test_load_twice_changes_nothing_and_export_round_trips(engine, dataset) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        first = load_dataset(session, dataset)
    assert sum(first.created.values()) > 0 and first.content_version == 1
    with Session(engine) as session:
        revisions_before = session.scalar(select(func.count()).select_from(Revision))
        second = load_dataset(session, dataset)
        revisions_after = session.scalar(select(func.count()).select_from(Revision))
    assert not second.changed
    assert sum(second.unchanged.values()) == sum(first.created.values())
    assert second.content_version == 1
    assert revisions_after == revisions_before
    with Session(engine) as session:
        exported = export_dataset(session)
    assert exported == dataset
    assert dataset_texts(exported) == dataset_texts(dataset)


def test_a_changed_file_updates_just_that_record(engine, dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        load_dataset(session, dataset)
    raw = {name: yaml.safe_load(text) for name, text in dataset_texts(dataset).items()}
    target = raw["indications.yaml"][0]
    target["clinical_summary"] = target["clinical_summary"] + " (Edited.)"
    for name, records in raw.items():
        (tmp_path / name).write_text(yaml.safe_dump(records, sort_keys=False, allow_unicode=True), encoding="utf-8")
    changed = read_dataset(tmp_path)
    with Session(engine) as session:
        report = load_dataset(session, changed)
        row = session.scalars(select(Indication).where(Indication.slug == target["slug"])).one()
        revisions = session.scalars(
            select(Revision).where(Revision.slug == target["slug"]).order_by(col(Revision.version))
        ).all()
        state = session.get(DatasetState, 1)
    assert report.updated["indications"] == 1
    assert sum(report.updated.values()) == 1 and sum(report.created.values()) == 0
    assert row.version == 2 and row.clinical_summary.endswith("(Edited.)")
    assert [r.change for r in revisions] == ["create", "update"]
    assert state is not None and state.content_version == 2


def test_a_dangling_reference_is_refused_and_changes_nothing(engine, dataset) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        load_dataset(session, dataset)
    broken = dataset.model_copy(
        update={"indications": [dataset.indications[0].model_copy(update={"regimen": "no-such-regimen"})]}
    )
    with Session(engine) as session, pytest.raises(ContentError, match="no-such-regimen"):
        load_dataset(session, broken)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(Indication))
        state = session.get(DatasetState, 1)
    assert count == len(dataset.indications)
    assert state is not None and state.content_version == 1


def test_a_value_longer_than_its_column_is_refused_on_every_store(engine, dataset) -> None:  # type: ignore[no-untyped-def]
    """SQLite would store it and PostgreSQL would fail mid-load: the loader refuses it on both, up front."""
    target = dataset.targets[0].model_copy(update={"gene_symbol": "X" * 30})
    broken = dataset.model_copy(update={"targets": [target, *dataset.targets[1:]]})
    with Session(engine) as session, pytest.raises(ContentError, match="gene_symbol is 30 characters"):
        load_dataset(session, broken)
    with Session(engine) as session:
        assert session.get(DatasetState, 1) is None
