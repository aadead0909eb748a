"""Every kind of record, declared once (see app/kinds/base.py); the order is the docs' and the tags' order.

A new kind is a module here with a ``KIND`` declaration and its line below; routes (app/api/v1/catalog.py),
the read model (app/readmodel/), the OpenAPI tags and the search sources follow from this list.
"""

from __future__ import annotations

from app.kinds import conditions, drugs, indications, mechanisms, regimens, sources, targets
from app.kinds.base import Kind

KINDS: tuple[Kind, ...] = (
    drugs.KIND,
    regimens.KIND,
    targets.KIND,
    mechanisms.KIND,
    conditions.KIND,
    indications.KIND,
    sources.KIND,
)
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}

__all__ = ["BY_NAME", "KINDS", "Kind"]
