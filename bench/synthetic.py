"""Synthetic content for the benchmark's scale runs, kept out of the real dataset.

It reads the real dataset (``app/content/data`` or another folder), copies it into a new folder and adds
synthetic conditions and indications (slugs prefixed ``synthetic-``) until the tables hold ``scale`` times
as many rows. Synthetic texts are placeholder filler marked as such: no clinical statement, no code, no
number is invented. The synthetic indications point at the real drug, regimens and sources when the real
dataset has them; when it has none (the curated files are still being written), a synthetic source, drug
and regimen are added too, so the harness can still run.

Usage: ``python -m bench.synthetic OUT_FOLDER --scale 50 [--from FOLDER]``; then load ``OUT_FOLDER`` into a
separate SQLite file with ``ldn-kb load-content --folder OUT_FOLDER``. Never point it at app/content/data.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.content import DATA_DIR
from app.content.files import read_dataset, write_dataset
from app.content.schema import Dataset

PREFIX = "synthetic-"
#: Below this many real indications (or conditions) the scale applies to this base instead.
MIN_BASE = 20

_FILLER = (
    "Synthetic benchmark record {n}: placeholder text of realistic length, not medical content. "
    "It exists only to grow the tables for the paging benchmark and is never part of the curated dataset. "
)
_CATEGORIES = (
    "pain",
    "autoimmune-inflammatory",
    "mental-health",
    "neurological",
    "gastrointestinal",
)
_OUTCOMES = ("positive", "negative", "mixed", "not-reported")


@dataclass(frozen=True)
class Plan:
    real_conditions: int
    real_indications: int
    conditions: int
    indications: int


def _text(n: int, repeat: int) -> str:
    return (_FILLER.format(n=n) * repeat).strip()


def _support(data: dict[str, Any]) -> tuple[list[str], list[str], str]:
    """Source slugs, regimen slugs and the drug slug the synthetic indications point at (added when absent)."""
    if not data["sources"]:
        data["sources"].append(
            {
                "slug": f"{PREFIX}source-1",
                "kind": "article",
                "title": "Synthetic benchmark source (placeholder)",
                "verification": "article-claim",
                "note": "Synthetic: benchmark only.",
            }
        )
    if not data["drugs"]:
        data["drugs"].append(
            {
                "slug": f"{PREFIX}drug",
                "name": "Synthetic benchmark drug",
                "clinical_summary": _text(0, 2),
                "plain_summary": _text(0, 1),
            }
        )
    drug = data["drugs"][0]["slug"]
    regimens = [r["slug"] for r in data["regimens"] if r["drug"] == drug]
    if not regimens:
        data["regimens"].append(
            {
                "slug": f"{PREFIX}regimen",
                "drug": drug,
                "name": "Synthetic benchmark regimen",
                "band": "synthetic",
                "route": "oral",
                "form": "placeholder",
                "frequency": "placeholder",
                "approval_status": "off-label",
                "dose_ranges": [
                    {
                        "slug": f"{PREFIX}regimen-range",
                        "label": "placeholder range",
                        "source": data["sources"][0]["slug"],
                        "min": 1,
                        "unit": "mg",
                        "verification": "article-claim",
                        "note": "Synthetic: benchmark only.",
                    }
                ],
                "clinical_summary": _text(0, 2),
                "plain_summary": _text(0, 1),
            }
        )
        regimens = [f"{PREFIX}regimen"]
    return [s["slug"] for s in data["sources"]], regimens, drug


def plan(dataset: Dataset, scale: int) -> Plan:
    real_c, real_i = len(dataset.conditions), len(dataset.indications)
    return Plan(
        real_conditions=real_c,
        real_indications=real_i,
        conditions=max(real_c, MIN_BASE) * scale,
        indications=max(real_i, MIN_BASE) * scale,
    )


def grow(dataset: Dataset, scale: int) -> tuple[Dataset, Plan]:
    """The real dataset plus synthetic conditions and indications: ``scale`` times the (base) row counts."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    target = plan(dataset, scale)
    data: dict[str, Any] = dataset.model_dump(mode="python", exclude_defaults=True)
    sources, regimens, drug = _support(data)
    # Numbering goes on after synthetic records already there (a synthetic base grown again).
    first_c = 1 + sum(c["slug"].startswith(PREFIX) for c in data["conditions"])
    for n in range(first_c, first_c + target.conditions - len(data["conditions"])):
        data["conditions"].append(
            {
                "slug": f"{PREFIX}condition-{n:05d}",
                "name": f"Synthetic condition {n}",
                "category": _CATEGORIES[n % len(_CATEGORIES)],
                "synonyms": [f"synthetic alias {n}"],
                "clinical_summary": _text(n, 3),
                "plain_summary": _text(n, 2),
            }
        )
    conditions = [c["slug"] for c in data["conditions"]]
    first_i = 1 + sum(i["slug"].startswith(PREFIX) for i in data["indications"])
    for n in range(first_i, first_i + target.indications - len(data["indications"])):
        source = sources[n % len(sources)]
        data["indications"].append(
            {
                "slug": f"{PREFIX}indication-{n:05d}",
                "drug": drug,
                "condition": conditions[n % len(conditions)],
                "regimen": regimens[n % len(regimens)],
                "status": "off-label",
                "evidence_level": "source-claim",
                "evidence_direction": "not-assessed",
                "claim_basis": "article-only",
                "sources": [{"source": source, "role": "claim"}],
                "studies": [
                    {
                        "slug": f"{PREFIX}study-{n:05d}",
                        "source": source,
                        "design": "placeholder design",
                        "result": _text(n, 1),
                        "outcome": _OUTCOMES[n % len(_OUTCOMES)],
                    }
                ],
                "clinical_summary": _text(n, 4),
                "plain_summary": _text(n, 2),
            }
        )
    return Dataset.model_validate(data), target


def build(out: Path, scale: int, source: Path = DATA_DIR) -> Plan:
    """Write the grown dataset's YAML files into ``out`` (a folder that is not the real content)."""
    if out.resolve() == source.resolve() or out.resolve() == DATA_DIR.resolve():
        raise ValueError("refusing to write synthetic records into the curated content folder")
    grown, target = grow(read_dataset(source), scale)
    write_dataset(grown, out)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (never app/content/data)")
    parser.add_argument("--scale", type=int, default=50)
    parser.add_argument("--from", dest="source", type=Path, default=DATA_DIR, help="the real dataset folder")
    args = parser.parse_args(argv)
    target = build(args.out, args.scale, args.source)
    print(
        f"{args.out}: {target.conditions} conditions ({target.real_conditions} real), "
        f"{target.indications} indications ({target.real_indications} real)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
