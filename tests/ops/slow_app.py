"""A test-only app: the real service plus a slow route (a request in flight at SIGTERM) and a failing one
(an unexpected error, for the fault tests)."""

from __future__ import annotations

import asyncio
import os

from fastapi import FastAPI

from app.main import create_app


def create() -> FastAPI:
    app = create_app()
    seconds = float(os.environ.get("SLOW_SECONDS", "2"))

    @app.get("/test/slow", include_in_schema=False)
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(seconds)
        return {"finished": True}

    @app.get("/test/boom", include_in_schema=False)
    def boom() -> dict[str, bool]:
        raise RuntimeError("an unexpected failure, for the fault tests")

    return app
