"""Facts about the app's declared query parameters, read once from its OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

#: Integer parameters the FHIR facade reads from the raw query (not declared on its routes).
UNDECLARED_INTEGERS = frozenset({"_count"})


def _is_integer(schema: dict[str, Any]) -> bool:
    """``{"type": "integer"}`` or ``{"anyOf": [{"type": "integer"}, {"type": "null"}]}``."""
    if schema.get("type") == "integer":
        return True
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return bool(options) and all(_is_integer(s) for s in options)


def integer_query_params(app: FastAPI) -> frozenset[str]:
    """Names of query parameters that are integers on every operation declaring them (``limit``), plus the
    FHIR facade's: a zero-padded value of one of these means the same as the plain number."""
    integer: set[str] = set(UNDECLARED_INTEGERS)
    other: set[str] = set()
    for operations in app.openapi().get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if param.get("in") == "query":
                    (integer if _is_integer(param.get("schema", {})) else other).add(param["name"])
    return frozenset(integer - other)
