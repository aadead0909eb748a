"""Reading what a CDS request left out from the EHR's FHIR server (``fhirServer`` + ``fhirAuthorization``).

Two reads, both optional and bounded: a ``Medication`` an order refers to but the request does not carry,
and the patient's active ``MedicationRequest``/``MedicationStatement`` list when the client sent no
prefetch. Only a server the operator named is read (``LDNKB_CDS_FHIR_SERVERS``, see :func:`server_allowed`):
the request names its own ``fhirServer``, and reading any URL would let an anonymous caller make this
service send GETs and a bearer token to any host it reaches (loopback, a metadata address, the internal
network). Each read is a plain GET with the client's bearer token, a short overall timeout, no redirects and
a size cap; any failure (refused, slow, not JSON, not the resource asked for) is a ``None`` answer, never an
error of the call: the cards then say what could not be checked.

httpx is imported on the first read, not with the service: importing it loads its command-line tool's
libraries too (rich, pygments, where installed), about 5 MB of every worker's memory (a ready worker 111.6
MB with it, 106.2 MB without), for a read most calls never make.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

MAX_BYTES: Final = 1_000_000
MAX_REFERENCES: Final = 10
_FHIR_ID: Final = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ACCEPT: Final = "application/fhir+json, application/json;q=0.9"


@dataclass(frozen=True, slots=True)
class FhirAccess:
    base: str
    token: str
    timeout: float


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_NO_SERVER: Final = "no FHIR server with an access token was given to read it"
_FETCH_OFF: Final = "reading the EHR's FHIR server is turned off (LDNKB_CDS_FHIR_FETCH_ENABLED)"
_NOT_LISTED: Final = "the request's FHIR server is not one this service may read (LDNKB_CDS_FHIR_SERVERS)"


def _origin_and_path(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path without its trailing slash) of a plain http(s) base URL, or ``None`` for
    anything else: user info, a query, a fragment, a percent escape or a dot segment in the path."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if parts.query or parts.fragment or "#" in url or "?" in url or "%" in parts.path or "\\" in parts.path:
        return None
    segments = parts.path.split("/")
    if "." in segments or ".." in segments:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme], parts.path.rstrip("/")


def valid_server(url: str) -> bool:
    """Whether ``url`` may be listed in ``LDNKB_CDS_FHIR_SERVERS`` (a plain http(s) base URL)."""
    return _origin_and_path(url) is not None


def server_allowed(url: str, servers: Sequence[str]) -> bool:
    """Whether the FHIR server ``url`` lies under one of ``servers``: the same scheme, host and port, and its
    path the server's path or below it (``/fhir/r4`` under ``/fhir``, never ``/fhir2``)."""
    asked = _origin_and_path(url)
    if asked is None:
        return False
    for server in servers:
        listed = _origin_and_path(server)
        if listed is None or asked[:3] != listed[:3]:
            continue
        if asked[3] == listed[3] or asked[3].startswith(listed[3] + "/"):
            return True
    return False


def access(
    fhir_server: Any, authorization: Any, *, timeout: float, servers: Sequence[str] | None
) -> tuple[FhirAccess | None, str | None]:
    """The FHIR server to read from (an http(s) base URL among ``servers`` and a bearer token), or ``None``
    and, for the cards, why it is not read. ``servers`` ``None``: reading is turned off."""
    token = authorization.get("access_token") if isinstance(authorization, dict) else None
    if not isinstance(fhir_server, str) or not fhir_server.strip():
        return None, _NO_SERVER
    # CDS Hooks 2.0: the server may be used when both fhirServer and fhirAuthorization are given
    if not (isinstance(token, str) and 0 < len(token) <= 8000 and token.isprintable() and " " not in token):
        return None, _NO_SERVER
    if servers is None:
        return None, _FETCH_OFF
    if len(fhir_server) > 2000 or not server_allowed(fhir_server, servers):
        return None, _NOT_LISTED
    return FhirAccess(fhir_server.strip().rstrip("/"), token, timeout), None


async def _get_json(client: httpx.AsyncClient, url: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
    import httpx

    try:
        async with client.stream("GET", url, params=params) as response:
            if response.status_code != 200:
                return None
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    return None
        parsed = json.loads(bytes(body))
    except (httpx.HTTPError, ValueError, RecursionError, OSError):
        return None
    return parsed if isinstance(parsed, dict) else None


_TLS: list[ssl.SSLContext] = []


def _tls() -> ssl.SSLContext:
    """One TLS context per process (building one per call costs tens of milliseconds)."""
    if not _TLS:
        import certifi

        _TLS.append(ssl.create_default_context(cafile=certifi.where()))
    return _TLS[0]


def _client(fhir: FhirAccess) -> httpx.AsyncClient:
    import httpx

    headers = {"Accept": _ACCEPT, "Authorization": f"Bearer {fhir.token}"}
    return httpx.AsyncClient(
        headers=headers, timeout=fhir.timeout, follow_redirects=False, trust_env=False, verify=_tls()
    )


@dataclass(frozen=True, slots=True)
class FhirReads:
    medications: dict[str, dict[str, Any]]
    """``Medication/id`` -> the resource, for each reference that could be read."""
    active: list[dict[str, Any]] | None
    """The active-medication Bundles read (``None``: not asked for, or not read)."""
    active_complete: bool


async def read(
    fhir: FhirAccess, medication_ids: Sequence[str], *, patient_id: str | None, want_active: bool
) -> FhirReads:
    """The Medications (at most :data:`MAX_REFERENCES`) and, when asked, the active medication list."""
    ids = [i for i in dict.fromkeys(medication_ids) if _FHIR_ID.match(i)][:MAX_REFERENCES]
    want_active = want_active and isinstance(patient_id, str) and bool(_FHIR_ID.match(patient_id))
    async with _client(fhir) as client:
        tasks = [_get_json(client, f"{fhir.base}/Medication/{i}") for i in ids]
        if want_active:
            params = {"patient": str(patient_id), "status": "active", "_count": "100"}
            tasks.append(_get_json(client, f"{fhir.base}/MedicationRequest", params))
            tasks.append(_get_json(client, f"{fhir.base}/MedicationStatement", params))
        try:
            results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=fhir.timeout + 0.5)
        except TimeoutError:
            results = [None] * len(tasks)
    medications = {
        f"Medication/{i}": found
        for i, found in zip(ids, results[: len(ids)], strict=True)
        if found is not None and found.get("resourceType") == "Medication"
    }
    active: list[dict[str, Any]] | None = None
    complete = False
    if want_active:
        requests, statements = results[len(ids)], results[len(ids) + 1]
        if requests is not None and requests.get("resourceType") == "Bundle":
            active = [requests]
            complete = not any(
                isinstance(link, dict) and link.get("relation") == "next" for link in requests.get("link") or []
            )
            if statements is not None and statements.get("resourceType") == "Bundle":
                active.append(statements)
    return FhirReads(medications, active, complete)
