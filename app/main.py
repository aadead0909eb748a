"""The application factory."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI

from app import __version__
from app.api import health
from app.api.caching import Canonical, ContentVersion, ResponseStore
from app.api.deps import reject_unknown_params
from app.api.docs import install_docs
from app.api.front_door import FrontDoor, KnowledgeApp
from app.api.hosts import HostPolicy
from app.api.params import integer_query_params
from app.api.pipeline import Parts, middleware_stack
from app.api.security_headers import SecurityHeaders
from app.api.v1 import catalog, dose_check, meta
from app.api.v1 import search as search_api
from app.bootstrap import prepare_store, read_content_version
from app.db import make_engine
from app.errors import install_error_handlers
from app.integrations.cds_hooks.router import router as cds_router
from app.integrations.cds_hooks.shortcut import CdsCallShortcut
from app.integrations.fhir.router import router as fhir_router
from app.integrations.infobutton.router import router as infobutton_router
from app.observability.logging import AccessLog
from app.observability.metrics import Metrics
from app.observability.observer import RequestObserver
from app.services.search import SearchIndexes, build_searchable
from app.settings import Settings, get_settings

DESCRIPTION = """
A sourced knowledge base about **naltrexone** and **low-dose naltrexone (LDN)**: dosing regimens with
every source's dose range, receptor mechanisms by dose, and indications (FDA-approved and off-label) with
evidence levels, studies (negative results included) and sources.

**Reference information, not medical advice.**

**Stability promise:** paths are versioned (`/v1`). Within a version, changes are additive only: new
endpoints, new optional parameters and new fields may appear; documented fields never change meaning or
type and are never removed. Clients must ignore fields they do not know.

**Errors:** every error is `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`,
`instance`, and `errors[]` naming each invalid field. Each `type` is a stable URI listed at `GET /problems`
and defined at `GET /problems/{slug}`. Unknown query parameters are rejected (400), not ignored; `/v1`
answers 406 when `Accept` admits neither `application/json` nor `application/problem+json`, and POST
routes answer 415 to a body that is not `application/json`.

**Caching:** every GET under `/v1` carries a strong `ETag` (the same representation has the same tag on
every instance) and `Cache-Control`; send `If-None-Match` to get `304 Not Modified` with no body. Every
GET route also answers `HEAD` with the same headers and no body (not listed per operation). CORS exposes
`ETag` and `Link`.
"""

TAGS = [
    {
        "name": "drugs",
        "description": "The drug: identifiers, salts, contraindications, FDA approval history.",
    },
    {"name": "regimens", "description": "Dosing regimens and each source's dose range, attributed."},
    {"name": "targets", "description": "Receptors: mu, delta, kappa opioid receptors, OGF receptor, TLR4."},
    {"name": "mechanisms", "description": "What naltrexone does at each target, by dose and duration."},
    {"name": "conditions", "description": "Conditions with ICD-10-CM and SNOMED CT codes."},
    {"name": "indications", "description": "Drug x condition x regimen: status, evidence level, studies."},
    {"name": "sources", "description": "Labels, regulatory records, trials, reviews and the seed article."},
    {"name": "reference", "description": "Vocabularies and problem types."},
    {"name": "search", "description": "One ranked search across every kind of record, codes included."},
    {"name": "dose intelligence", "description": "Place any naltrexone dose against the documented regimens."},
    {"name": "cds hooks", "description": "CDS Hooks 2.0: discovery, order-select and order-sign services, feedback."},
    {"name": "infobutton", "description": "HL7 Infobutton URL-based knowledge requests (Atom or JSON)."},
    {"name": "fhir", "description": "FHIR R4 read-only facade: CapabilityStatement, MedicationKnowledge read/search."},
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics for the platform."},
]


def create_app(settings: Settings | None = None) -> KnowledgeApp:
    settings = settings or get_settings()
    engine = make_engine(settings)
    version = ContentVersion(lambda: read_content_version(engine), settings.content_check_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_store(engine, settings)
        version.try_refresh()
        with contextlib.suppress(Exception):  # the store is away: the first search builds it (or says why)
            await app.state.search_indexes.get()
        # What start-up built lives as long as the process: keep it out of the collector's full passes, and
        # collect the young generation less often (long GC pauses were the p99 of POST answers). No
        # collection first: start-up leaves about a thousand unreachable objects, and a full pass over its
        # ~180,000 took ~180 ms of the start.
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        gc.enable()  # `ldn-kb serve` starts with it disabled (app/cli.py)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(version.watch)
            yield
            tasks.cancel_scope.cancel()
        engine.dispose()
        app.state.observer.flush()
        app.state.metrics.close()

    app = KnowledgeApp(
        title="ldn-kb: naltrexone knowledge base",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        contact={"name": "ldn-kb maintainers"},
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        lifespan=lifespan,
        # Our own Prometheus metrics and JSON logs cover this; FastAPI's OpenTelemetry bridge otherwise
        # reads the environment on every request (a quarter of a cached answer's cost, measured).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        dependencies=[Depends(reject_unknown_params)],
        docs_url=None,  # self-hosted pages instead (app/api/docs.py): no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.content_version = version
    app.state.engine = engine
    app.state.search_indexes = SearchIndexes(lambda: build_searchable(engine), version.current)
    install_error_handlers(app)
    # Routing tries the routers in this order, and GETs are mostly answered before routing (the front
    # door): the POST services that are never cached come first.
    app.include_router(dose_check.router)
    app.include_router(cds_router)
    app.include_router(catalog.router)
    app.include_router(meta.router)
    app.include_router(search_api.router)
    app.include_router(infobutton_router)
    app.include_router(fhir_router)
    app.include_router(health.router)
    # First of all: plain CDS service calls, answered without FastAPI's per-call dependency solving and body
    # validation (the rest falls through to the documented route; app/integrations/cds_hooks/shortcut.py).
    app.router.routes.insert(0, CdsCallShortcut(app))
    # And plain searches (every keystroke of a search box), the same way (app/api/v1/search.py).
    app.router.routes.insert(1, search_api.SearchShortcut())
    install_docs(app)

    # The request pipeline: app/api/pipeline.py declares the middleware stack, outermost first.
    app.state.metrics = Metrics(engine=engine, content_version=version.current)
    app.state.access_log = AccessLog(enabled=settings.access_log, fmt=settings.log_format)
    observer = app.state.observer = RequestObserver(metrics=app.state.metrics, access_log=app.state.access_log)
    cors = bool(settings.cors_origins)
    security = SecurityHeaders(vary_origin=cors and "*" not in settings.cors_origins)
    hosts = app.state.hosts = HostPolicy(
        public_base_url=settings.public_base_url,
        allowed_hosts=settings.allowed_hosts,
        trusted_proxies=settings.trusted_proxies,
    )
    store = app.state.response_store = ResponseStore(
        version=version,
        max_bytes=settings.cache_bytes,
        decorate=security.apply,
        hosts=hosts,
        canonical=Canonical(lambda: integer_query_params(app)),
    )
    app.user_middleware = middleware_stack(settings, Parts(observer, security, hosts, store))
    # Before all of it: hits and 304s answered from the same store, with the same headers and records.
    app.front_door = FrontDoor(store=store, security=security, observer=observer, cors=cors)
    return app
