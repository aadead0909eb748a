"""The README's table of ``LDNKB_`` settings, rendered from the Settings model (``ldn-kb settings-table``;
a test keeps the README in step)."""

from __future__ import annotations

from typing import Literal

from app.settings import Settings


def _type_name(annotation: object) -> str:
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace(" | ", " \\| ")


def _bounds(metadata: list[object]) -> str:
    low = next((getattr(m, "ge", None) for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((getattr(m, "le", None) for m in metadata if getattr(m, "le", None) is not None), None)
    if low is None and high is None:
        return ""
    return f" ({'' if low is None else low}…{'' if high is None else high})"


def settings_table() -> str:
    """The README's settings table, one row per field of :class:`~app.settings.Settings`."""
    lines = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, list):
            shown = ",".join(str(item) for item in default)
        else:
            shown = str(default)
        cell = "*(empty)*" if shown == "" else f"`{shown}`"
        kind = _type_name(info.annotation) + _bounds(list(info.metadata))
        about = (info.description or "").replace("|", "\\|")
        lines.append(f"| `LDNKB_{name.upper()}` | {kind} | {cell} | {about} |")
    return "\n".join(lines) + "\n"
