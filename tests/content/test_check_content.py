"""An editor's mistakes, as ``ldn-kb check-content`` and the loader report them: ``file:line slug field:
message`` for every problem at once, YAML syntax errors with the file and line, no traceback, exit 1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.content import DATA_DIR
from app.content.check import ContentProblems, check_folder
from app.content.files import read_dataset
from tests.ops.server import BIN


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace the ``count``-th occurrence of ``old``; return its 1-based line."""
    text = path.read_text(encoding="utf-8")
    start = -1
    for _ in range(count):
        start = text.index(old, start + 1)
    path.write_text(text[:start] + new + text[start + len(old) :], encoding="utf-8")
    return text[:start].count("\n") + 1


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ldn-kb"), *args], capture_output=True, text=True, timeout=120, check=False)


def test_the_curated_dataset_has_no_problems() -> None:
    assert check_folder(DATA_DIR) == []
    done = _cli("check-content")
    assert done.returncode == 0, done.stderr


def test_every_problem_at_once_with_file_line_slug_and_field(folder: Path) -> None:
    indications = folder / "indications.yaml"
    typo_line = _edit(indications, "evidence_level: regulatory-approval", "evidence_level: regulatory-aproval", 2)
    regimens = folder / "regimens.yaml"
    range_line = _edit(regimens, "  - slug: ldn-toljan-1-to-5-mg-daily", "  - slug: ldn-article-under-4-mg-daily")
    mechanisms = folder / "mechanisms.yaml"
    ref_line = _edit(mechanisms, "source: vardeman-2023-ldn-article", "source: vardeman-2032-ldn-article")
    problems = [str(p) for p in check_folder(folder)]
    assert len(problems) == 3, problems
    typo = next(p for p in problems if "indications.yaml" in p)
    second = indications.read_text(encoding="utf-8").split("\n- slug: ")[1].split("\n")[0]
    assert typo.startswith(f"{indications}:{typo_line} {second} evidence_level: "), typo
    assert "regulatory-aproval" not in typo or "Input should be" in typo
    duplicate = next(p for p in problems if "regimens.yaml" in p)
    assert duplicate.startswith(f"{regimens}:{range_line} low-dose-naltrexone dose_ranges.1.slug: duplicate slug")
    reference = next(p for p in problems if "mechanisms.yaml" in p)
    assert reference.startswith(f"{mechanisms}:{ref_line} ")
    assert "unknown source 'vardeman-2032-ldn-article'" in reference


def test_a_missing_required_field_names_the_record(folder: Path) -> None:
    drugs = folder / "drugs.yaml"
    text = drugs.read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("  plain_summary:"))
    lines = text.splitlines()
    # Drop the field and its folded continuation lines.
    end = line
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    drugs.write_text("\n".join(lines[: line - 1] + lines[end:]) + "\n", encoding="utf-8")
    [problem] = [str(p) for p in check_folder(folder)]
    assert problem.startswith(f"{drugs}:1 naltrexone plain_summary: Field required"), problem


def test_a_yaml_syntax_error_names_the_file_and_line(folder: Path) -> None:
    targets = folder / "targets.yaml"
    line = _edit(targets, "- slug: ", "- slug: [unclosed\n  other: ", 2)
    problems = [str(p) for p in check_folder(folder)]
    assert len(problems) == 1 and problems[0].startswith(f"{targets}:"), problems
    reported = int(problems[0].split(":")[1])
    assert line <= reported <= line + 2, problems
    assert "YAML syntax" in problems[0] and "<unicode string>" not in problems[0]


def test_the_cli_prints_problems_without_a_traceback_and_exits_1(folder: Path) -> None:
    _edit(folder / "indications.yaml", "evidence_level: regulatory-approval", "evidence_level: strong")
    _edit(folder / "sources.yaml", "verification: primary", "verification: primery")
    done = _cli("check-content", "--folder", str(folder))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [row for row in done.stderr.splitlines() if row.strip()]
    assert len(lines) == 3 and lines[-1] == f"2 problem(s) in {folder}", lines
    assert all(row.startswith(str(folder)) for row in lines[:2])
    loaded = _cli("load-content", "--folder", str(folder))
    assert loaded.returncode == 1 and "Traceback" not in loaded.stderr
    assert "evidence_level:" in loaded.stderr and "nothing loaded" in loaded.stderr


def test_the_loader_reports_the_same_lines(folder: Path) -> None:
    _edit(folder / "conditions.yaml", "category: ", "category: not-a-category\n  x_category: ")
    with pytest.raises(ContentProblems) as raised:
        read_dataset(folder)
    text = str(raised.value)
    assert "conditions.yaml:" in text and " category: " in text and " x_category: " in text
    assert len(raised.value.problems) == 2


def test_a_folder_without_dataset_files_is_a_problem_not_a_pass(tmp_path: Path) -> None:
    done = _cli("check-content", "--folder", str(tmp_path / "typo"))
    assert done.returncode == 1 and "no dataset files here" in done.stderr and "Traceback" not in done.stderr


def test_a_field_given_twice_is_reported_not_silently_overwritten(folder: Path) -> None:
    regimens = folder / "regimens.yaml"
    line = _edit(regimens, "  route: ", "  route: oral\n  route: ", 1) + 1
    [problem] = [str(p) for p in check_folder(folder)]
    assert problem == f"{regimens}:{line} low-dose-naltrexone route: given twice (only the last one would count)"
