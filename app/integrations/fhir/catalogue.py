"""What the facade serves, built from the app's read model once per model (content version) and app.

The facade holds no knowledge of its own: every resource is mapped from the read model's records (the
records /v1 serves: ``model.records("drugs")``, ``"regimens"``, ``"mechanisms"``, ``"indications"``,
``"targets"``, and ``model.info``). The mapped set depends on the content only (canonical URLs come from the
settings, never from a request), so it is built once per read model and kept by the app (:class:`Catalogues`,
in ``app.state``); links, which do depend on the address a client used, are made when an answer is written.
Reads, searches and exports never touch the store: they keep answering while it is away.

Every resource carries ``meta.versionId`` (a digest of its content: it changes exactly when the content
does, and is the same on every instance) and ``meta.lastUpdated``.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI

from app.integrations.fhir.capability import capability_statement
from app.integrations.fhir.extensions import EXTENSIONS, canonical, structure_definition
from app.integrations.fhir.mapping import all_resources
from app.integrations.fhir.terminology import code_systems, value_sets
from app.readmodel.model import ModelKey, ReadModel
from app.services.dataset import DISCLAIMER
from app.services.embeds import iso_utc
from app.settings import Settings

FALLBACK_DATE = "2025-01-01"  # the date (1..1) of our definitions before any content is loaded


@dataclass(frozen=True, slots=True)
class Catalogue:
    medication_knowledge: dict[str, dict[str, Any]]
    structure_definitions: dict[str, dict[str, Any]]
    code_systems: dict[str, dict[str, Any]]
    value_sets: dict[str, dict[str, Any]]
    capability: dict[str, Any]
    last_updated: str | None

    def definitions(self, kind: str) -> dict[str, dict[str, Any]]:
        """The published resources of a definition type, by id."""
        return {
            "StructureDefinition": self.structure_definitions,
            "CodeSystem": self.code_systems,
            "ValueSet": self.value_sets,
        }[kind]


def version_id(resource: dict[str, Any]) -> str:
    """A digest of the resource without its meta: equal content, equal version, on every instance."""
    content = {k: v for k, v in resource.items() if k != "meta"}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def with_meta(resource: dict[str, Any], last_updated: str | None) -> dict[str, Any]:
    """``resource`` with ``meta.versionId`` and ``meta.lastUpdated`` right after its id (FHIR's key order)."""
    meta = dict(resource.get("meta", {}))
    stamp = meta.get("lastUpdated") or last_updated
    head = {"resourceType": resource["resourceType"], "id": resource["id"]}
    meta_out: dict[str, Any] = {"versionId": version_id(resource)}
    if stamp:
        meta_out["lastUpdated"] = stamp
    meta_out |= {k: v for k, v in meta.items() if k not in ("versionId", "lastUpdated")}
    rest = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
    return {**head, "meta": meta_out, **rest}


def _records(model: ReadModel, kind: str) -> list[dict[str, Any]]:
    """The model's records of ``kind`` (slug order, as /v1 lists them), as the mapping takes them."""
    return list(model.records(kind))


def build(model: ReadModel, canonical_base: str, *, cors: bool) -> Catalogue:
    """Every resource the facade serves, mapped from ``model`` (no query)."""
    last_updated = iso_utc(model.info.last_updated)
    date = last_updated or FALLBACK_DATE
    drugs = _records(model, "drugs")
    regimens = _records(model, "regimens")
    mechanisms = _records(model, "mechanisms")
    indications = _records(model, "indications")
    targets = _records(model, "targets")
    resources = all_resources(canonical_base, drugs, regimens, mechanisms, indications, DISCLAIMER)
    definitions = {ident: structure_definition(canonical_base, e, date) for ident, e in EXTENSIONS.items()}
    systems = code_systems(canonical_base, targets, date)
    sets = value_sets(canonical_base, systems, date)
    capability = capability_statement(
        canonical_base,
        date,
        [canonical(canonical_base, "StructureDefinition", i) for i in sorted(definitions)],
        [canonical(canonical_base, "CodeSystem", i) for i in sorted(systems)],
        [canonical(canonical_base, "ValueSet", i) for i in sorted(sets)],
        cors=cors,
    )

    def stamped(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {ident: with_meta(r, last_updated) for ident, r in table.items()}

    return Catalogue(
        stamped(resources),
        stamped(definitions),
        stamped(systems),
        stamped(sets),
        with_meta(capability, last_updated),
        last_updated,
    )


class Catalogues:
    """The catalogue of one app, built once per read model (never per host or request) and swapped as one.

    :meth:`get` takes the model the request answers from: when the model's key (store, content version and
    hash) is the one of the catalogue held, that catalogue is the answer; otherwise one is built from the
    model, under a lock (one build per model, however many requests arrive meanwhile), and swapped in.
    """

    def __init__(self, settings: Settings) -> None:
        self.canonical_base = settings.fhir_canonical_base.rstrip("/")
        self.cors = bool(settings.cors_origins)
        self.builds = 0  # how many times a catalogue was built (a test and the bench read it)
        self._lock = threading.Lock()
        self._current: tuple[ModelKey, Catalogue] | None = None  # (model key, catalogue), swapped as one

    def get(self, model: ReadModel) -> Catalogue:
        current = self._current
        if current is not None and current[0] == model.key:
            return current[1]
        with self._lock:
            current = self._current
            if current is None or current[0] != model.key:
                current = (model.key, build(model, self.canonical_base, cors=self.cors))
                self._current = current
                self.builds += 1
            return current[1]


_create_lock = threading.Lock()


def catalogues(app: FastAPI) -> Catalogues:
    """The app's :class:`Catalogues`, created on first use."""
    found: Catalogues | None = getattr(app.state, "fhir_catalogues", None)
    if found is None:
        with _create_lock:
            found = getattr(app.state, "fhir_catalogues", None)
            if found is None:
                found = Catalogues(app.state.settings)
                app.state.fhir_catalogues = found
    return found
