"""The curated dataset: reviewable YAML files under ``data/``, their schema, loader and exporter."""

from pathlib import Path

#: The curated dataset shipped with the service (YAML, one file per kind).
DATA_DIR = Path(__file__).resolve().parent / "data"
