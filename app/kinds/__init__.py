"""Every kind of record, declared once (see app/kinds/base.py): each module of this package that defines a
``KIND`` is one kind, listed here in the order of its ``order``.

A new kind is one module here: routes (app/api/v1/catalog.py), the read model (app/readmodel/), the OpenAPI
tags and the search sources follow from this list.
"""

from __future__ import annotations

import importlib
import pkgutil

from app.kinds.base import Kind


def _discover() -> tuple[Kind, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, Kind):
            found.append(kind)
    return tuple(sorted(found, key=lambda k: k.order))


KINDS: tuple[Kind, ...] = _discover()
BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}

__all__ = ["BY_NAME", "KINDS", "Kind"]
