"""Finishing touches on the generated OpenAPI document, in one place.

* Optional query parameters are documented by their own type: FastAPI writes ``str | None = None`` as
  ``anyOf: [string, null]``, which documentation renders as "Fields (string) or Fields (null)" and client
  generators type as nullable; an absent parameter is not a null one.
* ``SparseList``, the shape of any list page asked with ``fields=``, is added to the components (the list
  operations document their full shape and name this one in their ``fields`` parameter).
* The OpenAPI ``links`` between operations (app/api/links.py) are put on their responses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from app.api.links import add_links
from app.schemas.common import SparseList

_NULL = {"type": "null"}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    variants = schema.get("anyOf")
    if not isinstance(variants, list) or _NULL not in variants:
        return schema
    rest = [v for v in variants if v != _NULL]
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest[0], **outer} if len(rest) == 1 else {"anyOf": rest, **outer}


def clean_document(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "header") and "schema" in parameter:
                    parameter["schema"] = _without_null(parameter["schema"])
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    sparse = SparseList.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in sparse.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("SparseList", sparse)
    add_links(document)
    return document


def install_openapi_cleanup(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = clean_document(generate())
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to customise the document
