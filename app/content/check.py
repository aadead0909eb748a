"""Check the dataset's YAML files without loading them: every problem at once, each as
``file:line record-slug field: message`` (what an editor needs to find it), never a traceback.

It checks what the loader would refuse: YAML syntax (with the file and line), each record against its
schema (app/content/schema.py), duplicate slugs (records, and nested records with slugs, such as dose ranges,
studies and approvals, across records), and references to records that do not exist (a key named as a
kind's singular, ``source:``, ``drug:``, ``regimen:``, ..., at any depth; see app/content/rows.py). ``ldn-kb check-content`` prints the problems and exits 1 when there is one;
:func:`app.content.files.read_dataset` raises :class:`ContentProblems` with the same lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.content.rows import KINDS_IN_LOAD_ORDER, REFERENCES, slugged_nested
from app.content.schema import KINDS

#: Record model of each kind (the element type of the Dataset's list fields).
RECORD_MODELS: dict[str, type[BaseModel]] = {kind.name: kind.content_record_class for kind in KINDS_IN_LOAD_ORDER}
#: Nested records whose slugs must be unique across the whole dataset, by kind.
CHILDREN: dict[str, tuple[str, ...]] = {kind.name: slugged_nested(kind) for kind in KINDS_IN_LOAD_ORDER}

Path_ = tuple[int | str, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    slug: str
    field: str
    message: str

    def __str__(self) -> str:
        if not self.slug and not self.field:  # the file as a whole (YAML syntax, not a list)
            return f"{self.file}:{self.line}: {self.message}"
        return f"{self.file}:{self.line} {self.slug} {self.field}: {self.message}"


class ContentProblems(ValueError):
    """The dataset files have problems; ``problems`` lists each, ``str()`` gives one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int], repeated: list[tuple[Path_, int]]) -> None:
    """The 1-based line of every node of a composed YAML document, by its path of keys and indexes; a key
    given twice in one mapping goes to ``repeated`` (YAML loaders silently keep the last value)."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark.line)
            if name in seen:
                repeated.append(((*path, name), key.start_mark.line + 1))
            seen.add(name)
            _lines(value, (*path, name), out, repeated)
            out[(*path, name)] = key.start_mark.line + 1  # a field's problem is shown on its key's line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out, repeated)


def _line(lines: dict[Path_, int], path: Path_) -> int:
    """The line of ``path``, or of its nearest ancestor that is in the file (a missing field: its record)."""
    for end in range(len(path), -1, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return 1


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(record)"


def _walk(value: Any, path: Path_) -> Iterator[tuple[Path_, str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), str(key), item
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


@dataclass
class _File:
    kind: str
    name: str
    records: list[Any]
    lines: dict[Path_, int]
    readable: bool = True


def _read(folder: Path, kind: str, problems: list[Problem]) -> _File:
    path = folder / f"{kind}.yaml"
    name = str(path)
    if not path.exists():
        return _File(kind, name, [], {})
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        problems.append(Problem(name, line, "", "", f"YAML syntax: {message}"))
        return _File(kind, name, [], {}, readable=False)
    except yaml.YAMLError as exc:
        problems.append(Problem(name, 1, "", "", f"YAML: {exc}"))
        return _File(kind, name, [], {}, readable=False)
    lines: dict[Path_, int] = {}
    repeated: list[tuple[Path_, int]] = []
    if node is not None:
        _lines(node, (), lines, repeated)
    if data is None:
        data = []
    if not isinstance(data, list):
        problems.append(Problem(name, 1, "", "", f"the file must be a list of {kind} records"))
        return _File(kind, name, [], lines, readable=False)
    for key_path, line in repeated:
        index = key_path[0] if key_path and isinstance(key_path[0], int) else -1
        record = data[index] if 0 <= index < len(data) else None
        slug = _slug(record, index) if record is not None else ""
        problems.append(Problem(name, line, slug, _field(key_path[1:]), "given twice (only the last one would count)"))
    return _File(kind, name, data, lines)


def _slug(record: Any, index: int) -> str:
    slug = record.get("slug") if isinstance(record, dict) else None
    return slug if isinstance(slug, str) and slug else f"#{index + 1}"


def _check_child_slugs(
    file: _File, index: int, record: dict[str, Any], seen: dict[str, tuple[str, int]], problems: list[Problem]
) -> None:
    """Nested records' slugs (dose ranges, studies, approvals) are unique across the whole dataset."""
    for name in CHILDREN.get(file.kind, ()):
        nested = record.get(name, [])
        for child_index, child in enumerate(nested if isinstance(nested, list) else []):
            child_slug = child.get("slug") if isinstance(child, dict) else None
            if not isinstance(child_slug, str):
                continue
            child_path = (index, name, child_index, "slug")
            child_line = _line(file.lines, child_path)
            if child_slug in seen:
                other, other_line = seen[child_slug]
                message = f"duplicate slug '{child_slug}' (also at {other}:{other_line})"
                problems.append(Problem(file.name, child_line, _slug(record, index), _field(child_path[1:]), message))
            else:
                seen[child_slug] = (file.name, child_line)


def check_folder(folder: Path) -> list[Problem]:
    """Every problem of the dataset in ``folder``, in file and line order (empty: the loader will accept it)."""
    problems: list[Problem] = []
    expected = [folder / f"{kind}.yaml" for kind in KINDS]
    if not any(path.is_file() for path in expected):
        names = ", ".join(path.name for path in expected)
        return [Problem(str(folder), 1, "", "", f"no dataset files here (expected {names})")]
    files = [_read(folder, kind, problems) for kind in KINDS]
    slugs: dict[str, set[str]] = {kind: set() for kind in KINDS}
    first_seen: dict[tuple[str, str], int] = {}
    children_seen: dict[str, tuple[str, int]] = {}
    for file in files:
        model = RECORD_MODELS[file.kind]
        for index, record in enumerate(file.records):
            slug = _slug(record, index)
            try:
                model.model_validate(record)
            except ValidationError as exc:
                for error in exc.errors():
                    loc = tuple(error["loc"])
                    line = _line(file.lines, (index, *loc))
                    problems.append(Problem(file.name, line, slug, _field(loc), error["msg"]))
            if not isinstance(record, dict):
                continue
            line = _line(file.lines, (index,))
            if isinstance(record.get("slug"), str):
                if record["slug"] in slugs[file.kind]:
                    first = first_seen[(file.kind, record["slug"])]
                    problems.append(Problem(file.name, line, slug, "slug", f"duplicate slug (first at line {first})"))
                else:
                    slugs[file.kind].add(record["slug"])
                    first_seen[(file.kind, record["slug"])] = line
            _check_child_slugs(file, index, record, children_seen, problems)
    # References into a file that could not be read are not checked (its slugs are unknown, not missing).
    unreadable = {file.kind for file in files if not file.readable}
    for file in files:
        for index, record in enumerate(file.records):
            if not isinstance(record, dict):
                continue
            slug = _slug(record, index)
            for path, key, value in _walk(record, (index,)):
                target = REFERENCES.get(key)
                if target is None or target in unreadable or not isinstance(value, str) or value in slugs[target]:
                    continue
                problems.append(
                    Problem(
                        file.name,
                        _line(file.lines, path),
                        slug,
                        _field(path[1:]),
                        f"unknown {key} '{value}' (no such slug in {target}.yaml)",
                    )
                )
    order = {file.name: position for position, file in enumerate(files)}
    return sorted(set(problems), key=lambda p: (order.get(p.file, len(order)), p.line, p.field, p.message))
