"""What the facade serves, built from the services' results once per content version and app.

The facade holds no knowledge of its own: every resource is mapped from ``app.services`` output. The mapped
set depends on the content only (canonical URLs come from the settings, never from a request), so it is built
once per content version and kept by the app (:class:`Catalogues`, in ``app.state``); links, which do depend on
the address a client used, are made when an answer is written. Reads and searches do no per-request ORM work
beyond reading the content version.

Every resource carries ``meta.versionId`` (a digest of its content: it changes exactly when the content
does, and is the same on every instance) and ``meta.lastUpdated``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI
from sqlmodel import Session

from app.integrations.fhir.capability import capability_statement
from app.integrations.fhir.extensions import EXTENSIONS, canonical, structure_definition
from app.integrations.fhir.mapping import all_resources
from app.integrations.fhir.terminology import code_systems, value_sets
from app.services import drugs as drug_service
from app.services import indications as indication_service
from app.services import mechanisms as mechanism_service
from app.services import regimens as regimen_service
from app.services import targets as target_service
from app.services.dataset import DISCLAIMER, dataset_info
from app.services.embeds import iso_utc
from app.services.listing import Page, PageRequest
from app.settings import Settings

FALLBACK_DATE = "2025-01-01"  # the date (1..1) of our definitions before any content is loaded
_PAGE = 500


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


def _every(fetch: Callable[[PageRequest], Page[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every item of a service's list, following its cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = fetch(PageRequest(limit=_PAGE, cursor=cursor))
        items += page.items
        cursor = page.next_cursor
        if not cursor:
            return items


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


def build(session: Session, canonical_base: str, *, cors: bool) -> Catalogue:
    info = dataset_info(session)
    last_updated = iso_utc(info.last_updated)
    date = last_updated or FALLBACK_DATE
    drugs = _every(lambda p: drug_service.list_drugs(session, page=p))
    regimens = regimen_service.all_regimens(session)
    mechanisms = _every(lambda p: mechanism_service.list_mechanisms(session, page=p))
    indications = _every(lambda p: indication_service.list_indications(session, page=p))
    targets = _every(lambda p: target_service.list_targets(session, page=p))
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
    """The catalogue of one app, rebuilt only when the content version moves (never per host or request).

    :meth:`get` takes the content version the app already tracks (``app.state.content_version``, refreshed in
    the background), so a read asks the database nothing once the catalogue of that version is built, and
    keeps answering while the database is away. Without a known version it reads the store's.
    """

    def __init__(self, settings: Settings) -> None:
        self.canonical_base = settings.fhir_canonical_base.rstrip("/")
        self.cors = bool(settings.cors_origins)
        self.builds = 0  # how many times a catalogue was built (a test and the bench read it)
        self._lock = threading.Lock()
        self._current: tuple[int, Catalogue] | None = None  # (content version, catalogue), swapped as one

    def get(self, session: Session, known_version: int | None = None) -> Catalogue:
        current = self._current
        if known_version is None or known_version < 0:
            known_version = dataset_info(session).content_version
        if current is not None and current[0] >= known_version:
            return current[1]  # a catalogue built from a newer store than the version tracked is not stale
        with self._lock:  # one build per version, however many requests arrive meanwhile
            current = self._current
            if current is None or current[0] < known_version:
                version = dataset_info(session).content_version
                current = (version, build(session, self.canonical_base, cors=self.cors))
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
