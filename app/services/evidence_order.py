"""SQL ordering of evidence levels by their rank (strongest first)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case

from app.domain.evidence import RANK


def evidence_rank(column: Any) -> ColumnElement[int]:
    return case({level.value: rank for level, rank in RANK.items()}, value=column, else_=99)
