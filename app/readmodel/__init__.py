"""The immutable per-content-version read model (model.py), its builder (build.py) and its holder with the
atomic swap (holder.py). Routes and integrations take the model of their app with ``app.api.read_model.ReadModelDep`` (or
``request.app.state.read_model.current()`` in a sync route) and answer from that one object.

What the integrations read from a :class:`~app.readmodel.model.ReadModel`:

* ``model.records(kind)`` / ``model.record(kind, slug)``: every record as /v1 serves it (FHIR mapping,
  Infobutton entries, the drug's contraindications);
* ``model.select(kind, **filters)``: the list filters over memory (``select("indications", code="M79.7")``,
  ``select("mechanisms", regimen="low-dose-naltrexone")``);
* ``model.dose_ranges`` (:class:`~app.readmodel.model.DoseRangeFact`: the domain's ``RangeSpec`` with its
  display text, quote, verification, reference flag, source citation and regimen summary) and
  ``model.range_specs``;
* ``model.search_sources``: one :class:`~app.kinds.base.SearchSource` per record, for the search index;
* ``model.info`` and ``model.meta``: the dataset's version, hash, last update and the ``meta`` object.
"""

from __future__ import annotations

from app.readmodel.holder import ReadModelHolder
from app.readmodel.model import ReadModel

__all__ = ["ReadModel", "ReadModelHolder"]
