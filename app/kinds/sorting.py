"""The sort orders of a kind as an enum (so OpenAPI lists them per operation): ``slug``, ``-slug``, ..."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.kinds.base import Kind


def sort_enum(kind: Kind) -> type[StrEnum]:
    """``<Singular>Sort``: each sortable field ascending, then each descending (prefix ``-``)."""
    members: list[tuple[str, str]] = []
    for f in kind.sort_fields:
        members.append((f.name, f.name))
    for f in kind.sort_fields:
        members.append((f"{f.name}_desc", f"-{f.name}"))
    enum = StrEnum(f"{kind.operation_suffix}Sort", members)  # type: ignore[misc]
    enum.__doc__ = f"Sort orders of {kind.name}: a field ascending, or descending with the prefix `-`."
    enum.__module__ = __name__
    return enum
