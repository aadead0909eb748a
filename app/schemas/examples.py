"""Response and request examples for the OpenAPI document, recorded from real answers (never invented).

``examples.json`` beside this module is written by ``ldn-kb build-examples`` (app/buildtime/examples.py):
real answers of the service on the curated dataset, lists cut to a few items, clock times fixed. This module
only reads it; tests validate every example against its public model and the live answers.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES_FILE = Path(__file__).with_name("examples.json")


@cache
def examples() -> dict[str, Any]:
    """Every example by name (``drug``, ``drug_list``, ..., ``dose_check``, ``cds_response``, ``fhir_searchset``)."""
    loaded: dict[str, Any] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return loaded


def example(name: str) -> Any:
    return examples()[name]


def example_if_any(name: str) -> Any | None:
    """The example ``name``, or None before examples.json has it (a new kind, before its first build)."""
    return examples().get(name)
