"""Prometheus metrics: requests by route template, latency, in-flight requests, the DB pool, content.

Each app owns a :class:`Metrics` with its own registry, so several apps in one process (tests) never
collide. With ``PROMETHEUS_MULTIPROC_DIR`` set (several uvicorn workers), prometheus-client writes the
counters and histograms of every worker to files in that folder and ``/metrics`` sums them over the
workers; the folder must exist, be writable and be emptied before the service starts.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from app import __version__

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Seconds; from half a millisecond (answers from the response cache) to ten seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Children = tuple[Any, Any]


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _StateCollector(Collector):
    """Values read when scraped: in-flight requests (one process), DB pool, content version, build info."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> Iterable[Metric]:
        """Nothing: without it, registering would call :meth:`collect`, reading the store at start-up."""
        return []

    def collect(self) -> Iterable[Metric]:
        m = self.metrics
        if not m.multiprocess:
            yield GaugeMetricFamily(
                "ldn_kb_http_requests_in_flight", "HTTP requests being served now.", value=m.in_flight
            )
        if m.show_python:
            build = GaugeMetricFamily(
                "ldn_kb_build_info", "Version of the service and of Python.", labels=["version", "python"]
            )
            build.add_metric([__version__, platform.python_version()], 1)
        else:  # served on the public port: the runtime's version is nobody's business there
            build = GaugeMetricFamily("ldn_kb_build_info", "Version of the service.", labels=["version"])
            build.add_metric([__version__], 1)
        yield build
        breaker = getattr(m.engine.pool, "breaker", None) if m.engine is not None else None
        if breaker is not None:
            yield GaugeMetricFamily(
                "ldn_kb_db_breaker_open",
                "1 while the store's circuit breaker is open (requests answer 503 without trying the store).",
                value=1.0 if breaker.open else 0.0,
            )
        yield from self._pool()
        if m.content_version is not None:
            try:
                version = m.content_version()
            except Exception:  # the store is down: report nothing rather than fail the scrape
                version = None
            if version is not None and version >= 0:
                yield GaugeMetricFamily(
                    "ldn_kb_content_version", "Version of the curated dataset being served.", value=version
                )

    def _pool(self) -> Iterator[Metric]:
        engine = self.metrics.engine
        if engine is None:
            return
        pool = engine.pool
        labels = ["pool", "dialect"]
        values = [type(pool).__name__, engine.dialect.name]
        readings = (
            ("ldn_kb_db_pool_checked_out", "Connections in use (checked out of the pool).", "checkedout"),
            ("ldn_kb_db_pool_idle", "Idle connections held by the pool.", "checkedin"),
            ("ldn_kb_db_pool_size", "Configured pool size.", "size"),
            ("ldn_kb_db_pool_overflow", "Connections beyond the pool size (negative: room left).", "overflow"),
        )
        for name, doc, attr in readings:
            reader = getattr(pool, attr, None)
            if not callable(reader):  # NullPool, StaticPool, ...: report what the pool exposes
                continue
            family = GaugeMetricFamily(name, doc, labels=labels)
            family.add_metric(values, float(reader()))
            yield family


class Metrics:
    """The metrics of one app: :meth:`request_started` and :meth:`request_ended` around every request (the
    instrumentation middleware and the front door), :meth:`children` when a batch of requests is counted."""

    def __init__(
        self,
        *,
        engine: Engine | None = None,
        content_version: Callable[[], int] | None = None,
        show_python: bool = True,
    ) -> None:
        self.engine = engine
        self.show_python = show_python
        self.content_version = content_version
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ldn_kb_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ldn_kb_http_request_duration_seconds",
            "Time from the request reaching the service to the end of its response.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = 0
        self.in_flight_gauge: Gauge | None = None
        if self.multiprocess:
            self.in_flight_gauge = Gauge(
                "ldn_kb_http_requests_in_flight",
                "HTTP requests being served now.",
                registry=self.registry,
                multiprocess_mode="livesum",
            )
        self.state = _StateCollector(self)
        if not self.multiprocess:
            self.registry.register(self.state)
        self._children: dict[tuple[str, str, int], Children] = {}

    def request_started(self) -> None:
        self.in_flight += 1
        if self.in_flight_gauge is not None:
            self.in_flight_gauge.inc()

    def request_ended(self) -> None:
        self.in_flight -= 1
        if self.in_flight_gauge is not None:
            self.in_flight_gauge.dec()

    def children(self, route: str, method: str, status: int) -> Children:
        """The (counter, histogram) children of one label set, created once and then reused."""
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            label_method = method if method in METHODS else "other"
            labels = (route, label_method, str(status))
            found = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[key] = found
        return found

    def render(self) -> bytes:
        """The exposition text: this process, or all workers' files in multiprocess mode."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self.state)
        return generate_latest(registry)

    def close(self) -> None:
        """At shutdown: drop this worker's live gauges from the multiprocess files."""
        if self.multiprocess:
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
