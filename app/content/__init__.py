"""The curated dataset: reviewable YAML files under ``data/``, their schema, loader and exporter."""
