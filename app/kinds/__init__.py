"""Every kind of record, declared once (see app/kinds/base.py): each module of this package that defines a
``KIND`` is one kind, listed here in the order of its ``order``.

Routes (app/api/v1/catalog.py), the read model (app/readmodel/), the OpenAPI tags, the search sources, and
the content loader, exporter and checker (app/content/rows.py) follow from this list. A new kind touches
five files besides its tests and its migration (tests/kinds/test_new_kind.py adds one in exactly these):

* ``app/kinds/<kind>.py``: its :class:`Kind` (table, content record, nested tables, sort fields, filters,
  representer, search source, tag), found here by discovery;
* ``app/models/<kind>.py``: its tables (app/models/ imports every module: Alembic sees them);
* ``app/schemas/<kind>.py``: its public shapes;
* ``app/content/data/<kind>.yaml``: its records;
* ``app/content/schema.py``: its content record class and its list on ``Dataset`` (which sets the load
  order; the schema stays out of this package so that a restart imports no content schema).

A field of a content record named as a kind's singular (``drug:``) is a reference by slug to that kind,
stored as ``<field>_id``: a new kind's singular must not be a plain field name elsewhere (``note`` is).
Generated files follow: ``openapi.yaml`` and ``app/schemas/examples.json``.
"""

from __future__ import annotations

import importlib
import pkgutil

from app.kinds.base import Kind, Records, SearchSource


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


def search_sources(records: Records) -> tuple[SearchSource, ...]:
    """Every record's search source, kind by kind, from each kind's records in slug order (what the read
    model's index and the store's ``search_document`` table are both made of)."""
    return tuple(kind.search_source(r, records) for kind in KINDS for r in records.get(kind.name, ()))


__all__ = ["BY_NAME", "KINDS", "Kind", "search_sources"]
