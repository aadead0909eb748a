"""Reading and writing the dataset's YAML files (one file per kind, a list of records)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.content import DATA_DIR
from app.content.schema import KINDS, Dataset


class _Dumper(yaml.SafeDumper):
    """Block style, keys in schema order, long strings folded only at word breaks."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value.normalize(), "f")
    if "." in text:
        return dumper.represent_scalar("tag:yaml.org,2002:float", text)
    return dumper.represent_scalar("tag:yaml.org,2002:int", text)


_Dumper.add_representer(Decimal, _decimal)


def read_dataset(folder: Path = DATA_DIR) -> Dataset:
    """Parse and validate every file of the dataset. On any problem, raises
    :class:`~app.content.check.ContentProblems` listing each as ``file:line slug field: message``."""
    raw: dict[str, Any] = {}
    try:
        for kind in KINDS:
            path = folder / f"{kind}.yaml"
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
            raw[kind] = loaded or []
        return Dataset.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        # The fast path failed: the checker reads the files again, with line numbers, to say where.
        from app.content.check import ContentProblems, check_folder

        problems = check_folder(folder)
        if problems:
            raise ContentProblems(problems) from None
        raise exc


def dump_records(records: list[dict[str, Any]]) -> str:
    """The canonical YAML text of one kind's records."""
    return yaml.dump(records, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def dataset_texts(dataset: Dataset) -> dict[str, str]:
    """File name -> canonical YAML text, for every kind."""
    texts: dict[str, str] = {}
    for kind in KINDS:
        records = [r.model_dump(mode="python", exclude_defaults=True) for r in getattr(dataset, kind)]
        texts[f"{kind}.yaml"] = dump_records(records)
    return texts


def write_dataset(dataset: Dataset, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in dataset_texts(dataset).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
