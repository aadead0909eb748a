"""Swagger UI (/docs) and ReDoc (/redoc) served from the package itself: no CDN, no inline script.

The script and style assets come from the installed ``fastapi-offline`` package (Swagger UI and ReDoc
bundles) and from ``app/api/static`` (the pages' own start-up script and stylesheet), both served under
``/docs-static``. The pages therefore work inside a network with no internet access, and the strict
Content-Security-Policy (``script-src 'self'``) of the docs pages holds.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_URL = "/docs-static"
STATIC_PACKAGES: list[str | tuple[str, str]] = [("app.api", "static"), ("fastapi_offline", "static")]

router = APIRouter(include_in_schema=False)

_SWAGGER = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="icon" type="image/png" href="{static}/favicon.png">
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="stylesheet" href="{static}/docs.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/init-swagger.js"></script>
</body>
</html>
"""

_REDOC = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - ReDoc</title>
<link rel="icon" type="image/png" href="{static}/favicon.png">
<link rel="stylesheet" href="{static}/docs.css">
</head>
<body>
<redoc spec-url="{openapi}"></redoc>
<script src="{static}/redoc.standalone.js"></script>
</body>
</html>
"""


def _page(template: str, request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    html = template.format(
        title=escape(app.title),
        static=f"{root}{STATIC_URL}",
        openapi=f"{root}{escape(app.openapi_url or '/openapi.json', quote=True)}",
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI, from the package's own assets."""
    return _page(_SWAGGER, request)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc, from the package's own assets."""
    return _page(_REDOC, request)


def install_docs(app: FastAPI) -> None:
    """Add the docs pages and mount their static assets (FastAPI's CDN pages must be off: docs_url=None)."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(packages=STATIC_PACKAGES), name="docs-static")
