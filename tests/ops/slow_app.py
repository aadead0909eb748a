"""A test-only app: the real service plus one slow route, to have a request in flight at SIGTERM."""

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

    return app
