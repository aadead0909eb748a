"""The application factory, and the module-level ``app`` that ``uvicorn app.main:app`` and ``fastapi run|dev`` use.

``app`` is built on first access (PEP 562), with the settings from the environment: importing this module
(as the tests do, to call :func:`create_app` with their own settings) builds nothing, opens nothing and
creates no ``data/`` folder.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI

from app import __version__
from app.api import health
from app.api.caching import Canonical, ContentVersion, ResponseStore
from app.api.cors import CorsPolicy
from app.api.deps import reject_unknown_params
from app.api.docs import install_docs
from app.api.front_door import FrontDoor, KnowledgeApp, ReadModelReads
from app.api.front_door_posts import PostAnswers
from app.api.hosts import HostPolicy
from app.api.limits import Families, GuardLimits, document_limits
from app.api.pages.router import router as pages_router
from app.api.params import integer_query_params
from app.api.pipeline import Parts, cache_control, middleware_stack
from app.api.security_headers import SecurityHeaders
from app.api.spec import install_openapi_cleanup
from app.api.v1 import catalog, dose_check, meta
from app.api.v1 import changes as changes_api
from app.api.v1 import search as search_api
from app.api.v1.catalog_shortcut import CatalogShortcut
from app.bootstrap import keep_preparing, try_prepare_store
from app.db import make_engine
from app.errors import ErrorRenderer, install_error_handlers
from app.integrations.cds_hooks.router import router as cds_router
from app.integrations.cds_hooks.shortcut import CdsCallShortcut
from app.integrations.fhir.bulk import router as fhir_bulk_router
from app.integrations.fhir.errors import fhir_error_response, is_fhir_request
from app.integrations.fhir.router import router as fhir_router
from app.integrations.infobutton.router import router as infobutton_router
from app.kinds import KINDS
from app.observability.logging import AccessLog
from app.observability.metrics import Metrics
from app.observability.metrics_server import serve_metrics
from app.observability.observer import RequestObserver
from app.readmodel.holder import ReadModelHolder
from app.schemas.openapi import install_openapi
from app.services.search import SearchIndexes
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
GET route also answers `HEAD` with the same headers and no body (not listed per operation).

**Browsers (CORS):** any origin may read the public API by default (`Access-Control-Allow-Origin: *`, no
credentials); `ETag`, `Link`, `X-Request-ID`, `WWW-Authenticate`, `Retry-After` and the `RateLimit`
headers are exposed; preflights are answered. CDS Hooks services also accept `Authorization` from a
browser. Operators restrict origins or turn CORS off with `LDNKB_CORS_ORIGINS`.
"""

TAGS = [
    *({"name": kind.name, "description": kind.tag_description} for kind in KINDS),
    {"name": "reference", "description": "Vocabularies and problem types."},
    {"name": "search", "description": "One ranked search across every kind of record, codes included."},
    {
        "name": "sync",
        "description": "Keep a faithful copy: the changes feed, each record's revisions, the bulk export.",
    },
    {"name": "pages", "description": "Server-rendered HTML pages for people, one per record (no JavaScript)."},
    {"name": "dose intelligence", "description": "Place any naltrexone dose against the documented regimens."},
    {"name": "cds hooks", "description": "CDS Hooks 2.0: discovery, order-select and order-sign services, feedback."},
    {"name": "infobutton", "description": "HL7 Infobutton URL-based knowledge requests (Atom or JSON)."},
    {"name": "fhir", "description": "FHIR R4 read-only facade: CapabilityStatement, MedicationKnowledge read/search."},
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics for the platform."},
]


def create_app(settings: Settings | None = None) -> KnowledgeApp:
    settings = settings or get_settings()
    engine = make_engine(settings)
    # The read model of this app (never module-global): /v1 records are answered from it, and the response
    # cache follows its content version, so a cached answer and a computed one never differ in version.
    read_model = ReadModelHolder(engine, interval=settings.content_check_interval, cursor_secret=settings.cursor_secret)
    # Interval 0: the version is read from the read model (memory) at every lookup; the holder itself decides
    # when to look at the store.
    version = ContentVersion(read_model.content_version, 0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A store that is away does not stop the start: the process serves not-ready (/readyz 503, store
        # routes 503) and prepares the store when it appears.
        try:
            prepared = try_prepare_store(engine, settings)
        except ValueError as exc:
            # An editor's mistake in the dataset files: say where first, one line per problem (the traceback
            # that follows from the server adds nothing). `ldn-kb check-content` gives the same lines. (The
            # checker is imported only then: a start on a loaded store imports no content module.)
            from app.content.check import ContentProblems

            if isinstance(exc, ContentProblems):
                logging.getLogger("ldn_kb.bootstrap").error(
                    "the dataset files have %d problem(s); nothing was loaded (ldn-kb check-content):\n%s",
                    len(exc.problems),
                    exc,
                )
            raise
        if prepared:
            read_model.try_check()  # the first model, built before the first request
        version.try_refresh()
        with contextlib.suppress(Exception):  # no model yet (the store is away): the first search builds it
            await app.state.search_indexes.get(await read_model.get())
        # What start-up built lives as long as the process: keep it out of the collector's full passes, and
        # collect the young generation less often (long GC pauses were the p99 of POST answers). No
        # collection first: start-up leaves about a thousand unreachable objects, and a full pass over its
        # ~180,000 took ~180 ms of the start.
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        gc.enable()  # `ldn-kb serve` starts with it disabled (app/cli.py)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(version.watch)
            tasks.start_soon(read_model.watch)
            if not prepared:

                def on_prepared() -> None:
                    read_model.try_check()
                    version.try_refresh()

                tasks.start_soon(keep_preparing, engine, settings, on_prepared)
            if settings.metrics_port:
                tasks.start_soon(serve_metrics, app, settings.metrics_host, settings.metrics_port)
            yield
            tasks.cancel_scope.cancel()
        snapshots = getattr(app.state, "sqlite_snapshots", None)
        if snapshots is not None:
            snapshots.close()  # the SQLite export files (app/services/export.py)
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
    app.state.read_model = read_model
    app.state.search_indexes = SearchIndexes()  # built from the read model, once per model
    # One renderer for every error; paths under /fhir answer OperationOutcomes (registered here, so that
    # app.errors knows no integration).
    render = ErrorRenderer([(is_fhir_request, fhir_error_response)], retry_after=math.ceil(settings.db_breaker_reset))
    install_error_handlers(app, render)
    # Routing tries the routers in this order, and GETs are mostly answered before routing (the front
    # door): the POST services that are never cached come first.
    app.include_router(dose_check.router)
    app.include_router(cds_router)
    catalog_router = catalog.build_router(settings)
    app.include_router(catalog_router)
    app.include_router(meta.router)
    app.include_router(search_api.router)
    app.include_router(infobutton_router)
    app.include_router(fhir_router)
    app.include_router(fhir_bulk_router)
    app.include_router(changes_api.router)
    app.include_router(pages_router)
    app.include_router(health.router)
    # First of all: plain CDS service calls, answered without FastAPI's per-call dependency solving and body
    # validation (the rest falls through to the documented route; app/integrations/cds_hooks/shortcut.py).
    cds_shortcut = CdsCallShortcut(app)
    app.router.routes.insert(0, cds_shortcut)
    # And plain searches (every keystroke of a search box), the same way (app/api/v1/search.py).
    search_shortcut = search_api.SearchShortcut()
    app.router.routes.insert(1, search_shortcut)
    # And plain record reads: lists with valid parameters, records by slug (app/api/v1/catalog_shortcut.py).
    catalog_shortcut = CatalogShortcut(catalog_router.routes, settings)
    app.router.routes.insert(2, catalog_shortcut)
    # And dose checks with a body that validates (app/api/v1/dose_check.py).
    dose_shortcut = dose_check.DoseCheckShortcut(app)
    app.router.routes.insert(3, dose_shortcut)
    install_docs(app)
    install_openapi_cleanup(app)  # plain optional parameters, SparseList (app/api/spec.py)
    install_openapi(app)  # examples recorded from real answers (app/schemas/openapi.py)
    document_limits(app, settings)

    # On the public port, the build info leaves out the Python version.
    app.state.metrics = Metrics(engine=engine, content_version=version.current, show_python=bool(settings.metrics_port))
    app.state.access_log = AccessLog(enabled=settings.access_log, fmt=settings.log_format)
    observer = app.state.observer = RequestObserver(metrics=app.state.metrics, access_log=app.state.access_log)
    # CORS (app/api/cors.py): `*` by default for the public read API, CDS Hooks with Authorization allowed.
    cors = CorsPolicy(list(settings.cors_origins), routes=app.router.routes)
    security = SecurityHeaders(
        vary_origin=cors.origin_dependent,
        hsts=settings.public_base_url.lower().startswith("https://"),
    )
    hosts = app.state.hosts = HostPolicy(
        public_base_url=settings.public_base_url,
        allowed_hosts=settings.allowed_hosts,
        trusted_proxies=settings.trusted_proxies,
    )

    def decorate(headers: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
        """What the stack adds outside the cache, stored with each entry for the front door: CORS headers that
        do not depend on the request (`*`), then the security headers."""
        return security.apply([*headers, *cors.static_headers(path)], path)

    store = app.state.response_store = ResponseStore(
        version=version,
        max_bytes=settings.cache_bytes,
        decorate=decorate,
        hosts=hosts,
        canonical=Canonical(lambda: integer_query_params(app)),
    )
    # The request pipeline: app/api/pipeline.py declares the middleware stack, outermost first.
    families = Families(settings)  # the body caps and rate limiters, shared by the guard and the front door
    app.user_middleware = middleware_stack(settings, Parts(observer, security, hosts, store, cors, render, families))
    # Before all of it: hits and 304s answered from the same store, and plain record reads computed from the read
    # model, with the same headers and records.
    app.front_door = FrontDoor(
        store=store,
        security=security,
        observer=observer,
        cors=cors,
        reads=ReadModelReads(
            read_model,
            [
                lambda scope, model: catalog_shortcut.answer_now(scope, model, read_model.cursors),
                lambda scope, model: search_shortcut.answer_now(scope, model, app.state.search_indexes),
            ],
        ),
        # And plain dose checks and CDS calls, computed from the read model (app/api/front_door_posts.py).
        posts=PostAnswers(
            holder=read_model,
            shortcuts=[cds_shortcut, dose_shortcut],
            settings=settings,
            families=families,
            hosts=hosts,
            cors=cors,
            decorate=decorate,
            observer=observer,
        ),
        cache_control=cache_control(settings),
        limits=GuardLimits.of(settings),  # the request guard's: what it would refuse goes to it
    )
    return app


_built: KnowledgeApp | None = None


def __getattr__(name: str) -> KnowledgeApp:
    """``app.main.app``: the service with the environment's settings, built once, on first access."""
    global _built
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _built is None:
        _built = create_app()
    return _built


def __dir__() -> list[str]:
    # `fastapi run` finds the app by listing the module's names.
    return sorted([*globals(), "app"])
