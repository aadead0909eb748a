"""``ldn-kb serve`` as a process: graceful shutdown, JSON logs, several workers with shared metrics."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.server import BIN, ROOT, running, service_env

pytestmark = pytest.mark.slow


def metric(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_in_flight_request_finishes_on_sigterm(tmp_path: Path) -> None:
    env = service_env(
        LDNKB_DATABASE_URL=f"sqlite:///{tmp_path / 'store.sqlite3'}", PYTHONPATH=str(ROOT), SLOW_SECONDS="2"
    )
    command = [str(BIN / "ldn-kb"), "serve", "--port", "{port}", "--app", "tests.ops.slow_app:create"]
    with running(command, env=env, cwd=ROOT, log=tmp_path / "serve.log") as server:
        server.wait_ready()
        outcome: dict[str, object] = {}

        def slow_request() -> None:
            try:
                response = httpx.get(server.url + "/test/slow", headers={"X-Request-ID": "slow-1"}, timeout=60)
                outcome["status"], outcome["body"] = response.status_code, response.json()
            except Exception as exc:  # recorded, asserted below
                outcome["error"] = repr(exc)

        thread = threading.Thread(target=slow_request)
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the scrape itself is one request in flight
            scrape = httpx.get(server.url + "/metrics", timeout=10).text
            if metric(scrape, "ldn_kb_http_requests_in_flight") >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the slow request never showed as in flight")
        server.process.send_signal(signal.SIGTERM)
        thread.join(timeout=60)
        assert outcome == {"status": 200, "body": {"finished": True}}
        # uvicorn shuts down, then re-raises the signal it caught: exit status 0 or "killed by SIGTERM".
        assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url + "/healthz", timeout=5)

    lines = server.lines()  # every line is JSON, uvicorn's included
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "ldn_kb.access", "ldn_kb.bootstrap"} <= loggers
    (slow,) = [line for line in lines if line.get("request_id") == "slow-1"]
    assert (slow["route"], slow["status"], slow["method"]) == ("/test/slow", 200, "GET")
    assert sum(1 for line in lines if line["message"] == "content loaded") == 1
    messages = [line["message"] for line in lines]
    assert "Application shutdown complete." in messages
    assert messages.index("Application shutdown complete.") > messages.index("Shutting down")


def test_workers_share_metrics_through_multiproc_dir(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = service_env(
        LDNKB_DATABASE_URL=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        LDNKB_ACCESS_LOG="false",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    command = [str(BIN / "ldn-kb"), "serve", "--port", "{port}", "--workers", "2"]
    with running(command, env=env, cwd=ROOT, log=tmp_path / "serve.log") as server:
        server.wait_ready()
        sent = 40
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(sent):  # new connections, so both workers take some
                assert client.get("/healthz", headers={"Connection": "close"}).status_code == 200
            # Each worker counts its requests in batches flushed within 0.1 s (app/observability/observer.py),
            # so the other worker's last requests may show a moment later; never more than were sent.
            deadline = time.monotonic() + 10
            while True:
                scrape = client.get("/metrics").text
                counted = metric(scrape, "ldn_kb_http_requests_total", route="/healthz", status="200")
                assert counted <= sent
                if counted == sent or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        assert counted == sent
        pids = {p.name for p in metrics_dir.iterdir()}
        assert len(pids) >= 2, "each worker writes its own files"
        assert metric(scrape, "ldn_kb_build_info") == 1
        assert server.stop() in (0, -signal.SIGTERM)
    lines = server.lines()
    assert not [line for line in lines if line["logger"] == "ldn_kb.access"], "LDNKB_ACCESS_LOG=false"
    assert sum(1 for line in lines if line["message"] == "content loaded") == 1
