"""What the facade serves, built from the services' results once per content version and base URL.

The facade holds no knowledge of its own: every resource is mapped from ``app.services`` output; the
mapped set is kept only until the dataset's content version changes (it is small: one resource per drug
and per regimen), so reads and searches do no per-request ORM work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.integrations.fhir.capability import capability_statement
from app.integrations.fhir.extensions import EXTENSIONS, structure_definition
from app.integrations.fhir.mapping import all_resources
from app.integrations.fhir.terminology import code_systems
from app.services import drugs as drug_service
from app.services import indications as indication_service
from app.services import mechanisms as mechanism_service
from app.services import regimens as regimen_service
from app.services import targets as target_service
from app.services.dataset import DISCLAIMER, dataset_info
from app.services.embeds import iso_utc
from app.services.listing import Page, PageRequest

FALLBACK_DATE = "2025-01-01"  # the CapabilityStatement's date (1..1) before any content is loaded
_PAGE = 500


@dataclass(frozen=True, slots=True)
class Catalogue:
    medication_knowledge: dict[str, dict[str, Any]]
    structure_definitions: dict[str, dict[str, Any]]
    code_systems: dict[str, dict[str, Any]]
    capability: dict[str, Any]
    last_updated: str | None


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


def build(session: Session, base: str, *, cors: bool) -> Catalogue:
    info = dataset_info(session)
    last_updated = iso_utc(info.last_updated)
    date = last_updated or FALLBACK_DATE
    drugs = _every(lambda p: drug_service.list_drugs(session, page=p))
    regimens = regimen_service.all_regimens(session)
    mechanisms = _every(lambda p: mechanism_service.list_mechanisms(session, page=p))
    indications = _every(lambda p: indication_service.list_indications(session, page=p))
    targets = _every(lambda p: target_service.list_targets(session, page=p))
    resources = all_resources(base, drugs, regimens, mechanisms, indications, DISCLAIMER)
    definitions = {ident: structure_definition(base, e, date) for ident, e in EXTENSIONS.items()}
    systems = code_systems(base, targets, date)
    capability = capability_statement(base, date, sorted(definitions), sorted(systems), cors=cors)
    return Catalogue(resources, definitions, systems, capability, last_updated)


_lock = threading.Lock()
_cache: dict[tuple[int, str, str, bool], Catalogue] = {}


def catalogue(session: Session, base: str, *, cors: bool = False) -> Catalogue:
    state = dataset_info(session)
    key = (state.content_version, state.content_hash, base, cors)
    with _lock:
        cached = _cache.get(key)
    if cached is None:
        cached = build(session, base, cors=cors)
        with _lock:
            if any(k[:2] != key[:2] for k in _cache) or len(_cache) > 16:
                _cache.clear()
            _cache[key] = cached
    return cached
