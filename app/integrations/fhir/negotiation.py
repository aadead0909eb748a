"""Content negotiation for the facade: JSON only.

* ``_format`` ``json``, ``application/json``, ``application/fhir+json`` (with or without parameters) mean
  JSON; any other value (``xml``, ``application/fhir+xml``, ...) is a 406.
* ``Accept``: a range that admits ``application/fhir+json`` or ``application/json`` (``*/*``,
  ``application/*``, either type, with q > 0) is served; a header that admits only other types (XML, HTML
  without ``*/*``) is a 406. No Accept header means JSON.
* The answer is ``application/fhir+json``, or ``application/json`` when the client asked for that one
  and not for ``application/fhir+json``.
* A ``_search`` body must be ``application/x-www-form-urlencoded`` (415 otherwise).
"""

from __future__ import annotations

from app.integrations.fhir.errors import FHIR_JSON, FhirError

PLAIN_JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
JSON_FORMATS = frozenset({"json", PLAIN_JSON, FHIR_JSON, "application/json+fhir", "text/json"})


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _ranges(accept: str) -> list[tuple[str, float]]:
    out = []
    for part in accept.split(","):
        if not part.strip():
            continue
        pieces = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in pieces[1:]:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        out.append((pieces[0].lower(), q))
    return out


def negotiate(accept: str | None, format_param: str | None) -> str:
    """The media type to answer with, or a 406 FhirError."""
    if format_param is not None:
        # An unencoded "+" arrives as a space (application/fhir json): read it as the "+" it was.
        if _media(format_param).replace(" ", "+") not in JSON_FORMATS:
            raise FhirError(406, "not-supported", f"_format={format_param} is not supported: this server speaks JSON.")
        return FHIR_JSON
    if not accept or not accept.strip():
        return FHIR_JSON
    ranges = [(m, q) for m, q in _ranges(accept) if q > 0]
    names = {m for m, _ in ranges}
    if names & {FHIR_JSON, "application/json+fhir", "*/*", "application/*"}:
        return FHIR_JSON
    if PLAIN_JSON in names:
        return PLAIN_JSON
    raise FhirError(
        406,
        "not-supported",
        f"No representation matches Accept: {accept}. This server answers {FHIR_JSON} (or {PLAIN_JSON}).",
    )


def require_form(content_type: str | None, body: bytes) -> None:
    """A ``_search`` body must be form-encoded; an empty body may come without a Content-Type."""
    if not body and not content_type:
        return
    if content_type is None or _media(content_type) != FORM:
        raise FhirError(
            415, "not-supported", f"POST _search takes {FORM}, not {content_type or 'a body without Content-Type'}."
        )
