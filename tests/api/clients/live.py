"""The real service in a uvicorn subprocess on a free loopback port, for the generated-client and fuzzing tests.

Built on the operations tests' ``tests.ops.server.running`` so there is one way of starting ``ldn-kb serve``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.ops.server import BIN, ROOT, Server, running, service_env


@contextmanager
def live_service(database_url: str, folder: Path) -> Iterator[Server]:
    """``ldn-kb serve`` on ``database_url`` (migrated and loaded at start), ready when this yields."""
    env = service_env(
        LDNKB_DATABASE_URL=database_url,
        LDNKB_ACCESS_LOG="false",
        LDNKB_CONTENT_CHECK_INTERVAL="0",
        LDNKB_LOG_LEVEL="warning",
    )
    command = [str(BIN / "ldn-kb"), "serve", "--host", "127.0.0.1", "--port", "{port}", "--graceful-timeout", "2"]
    with running(command, env=env, cwd=ROOT, log=folder / "server.log") as server:
        server.wait_ready()
        yield server


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document exactly as the app generates it now (JSON round trip: plain types only)."""
    from app.main import create_app

    document: dict[str, Any] = json.loads(json.dumps(create_app().openapi()))
    return document
