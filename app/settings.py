"""Every setting of the service, read once from the environment (prefix ``LDNKB_``).

Invalid values fail at start with pydantic's message naming the variable.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DB_PATH = Path("data") / "ldn-kb.sqlite3"
#: The Host names answered by default: this machine under its usual names, and the test client's.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1", "testserver")


class Settings(BaseSettings):
    """Service settings. Each field maps to ``LDNKB_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LDNKB_", extra="ignore", frozen=True)

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DB_PATH}",
        description="SQLAlchemy URL: sqlite:///path (default) or postgresql+psycopg://user@host/db.",
    )
    auto_migrate: bool = Field(default=True, description="Run Alembic migrations at start.")
    auto_load_content: bool = Field(default=True, description="Load the curated dataset at start when empty.")
    public_base_url: str = Field(
        default="", description="Absolute base URL used in links (empty: taken from each request)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="CORS: `*` lets any origin read the public API (no credentials); a comma-separated "
        "list of origins (https://app.example) restricts it; empty turns CORS off.",
    )
    cache_max_age: int = Field(default=300, ge=0, le=31_536_000, description="Cache-Control max-age (s).")
    cache_stale_while_revalidate: int = Field(
        default=3600, ge=0, le=31_536_000, description="Cache-Control stale-while-revalidate (s)."
    )
    content_check_interval: float = Field(
        default=2.0, ge=0, le=3600, description="Seconds between checks for a new content version."
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: list(LOCAL_HOSTS),
        description="Host names answered when LDNKB_PUBLIC_BASE_URL is empty (other Hosts get a 400): exact "
        "names, '.example.org' for a domain and its subdomains, '*' for any.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of proxies whose X-Forwarded-Proto and X-Forwarded-Host are honoured "
        "('*' for any); empty: never.",
    )
    response_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        le=1 << 40,
        description="Bytes the response cache may hold per process, bodies and headers counted (0: off).",
    )
    response_cache_entries: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Deprecated, use LDNKB_RESPONSE_CACHE_BYTES: 0 turns the cache off, other values are ignored.",
    )
    cursor_secret: str = Field(
        default="",
        description="Key that signs paging cursors (the same on every replica; empty: a built-in key, so cursors "
        "are still bound to their list and checked, but could be forged by someone who reads the code).",
    )
    page_limit_default: int = Field(default=20, ge=1, le=500, description="Default page size.")
    page_limit_max: int = Field(default=100, ge=1, le=1000, description="Largest page size accepted.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    access_log: bool = Field(default=True, description="Write one JSON log line per request.")
    log_format: Literal["json", "text"] = Field(
        default="json", description="Log lines as JSON objects (one a line) or plain text for a terminal."
    )
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000, description="SQLite busy_timeout.")
    db_pool_size: int = Field(default=5, ge=1, le=100, description="PostgreSQL connection pool size.")
    cds_trusted_issuers: dict[str, str] = Field(
        default_factory=dict,
        description="CDS Hooks JWT issuers: JSON object issuer -> JWKS file path or URL. Empty: no auth.",
    )
    cds_jwt_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Allowed clock skew (s).")
    cds_feedback_enabled: bool = Field(
        default=True, description="Accept CDS Hooks feedback (POST /cds-services/{id}/feedback); false: 404."
    )
    cds_feedback_retention_days: int = Field(
        default=90, ge=1, le=3650, description="CDS Hooks feedback older than this many days is deleted."
    )
    cds_fhir_fetch_enabled: bool = Field(
        default=True,
        description="CDS calls may read a referenced Medication or the active medications from the request's "
        "fhirServer (only with its fhirAuthorization bearer token) when the request does not carry them.",
    )
    cds_fhir_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The EHR FHIR servers CDS calls may read from (comma-separated base URLs, e.g. "
        "https://ehr.example.org/fhir): a request's fhirServer is read only when it lies under one of them "
        "(same scheme, host and port; the same path or below). Empty: none is read.",
    )
    cds_fhir_timeout_seconds: float = Field(
        default=2.0, gt=0, le=10, description="Time limit (s) for those fhirServer reads in one CDS call."
    )
    body_limit_feedback: int = Field(
        default=65_536, ge=1024, le=16_777_216, description="Largest CDS feedback body (bytes); larger: 413."
    )
    body_limit_cds: int = Field(
        default=262_144, ge=1024, le=16_777_216, description="Largest CDS service call body (bytes); larger: 413."
    )
    body_limit_default: int = Field(
        default=262_144, ge=1024, le=16_777_216, description="Largest body of any other request (bytes); larger: 413."
    )
    json_max_depth: int = Field(
        default=64, ge=4, le=512, description="Deepest nesting of arrays and objects in a JSON body; deeper: 400."
    )
    body_read_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Seconds to receive a whole request body; slower: 408."
    )
    header_read_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Seconds to receive a request's line and headers; slower: 408."
    )
    keep_alive_timeout: int = Field(default=5, ge=1, le=600, description="Idle keep-alive connections close (s).")
    max_header_bytes: int = Field(
        default=16_384, ge=1024, le=1_048_576, description="Largest request header section (bytes); larger: 431."
    )
    max_url_bytes: int = Field(
        default=8192, ge=256, le=1_048_576, description="Longest request target (path and query, bytes); longer: 414."
    )
    rate_limit_feedback: int = Field(
        default=60, ge=0, le=1_000_000, description="CDS feedback calls per client per window (0: no limit); over: 429."
    )
    rate_limit_posts: int = Field(
        default=0, ge=0, le=1_000_000, description="Other POSTs per client per window (0: no limit); over: 429."
    )
    rate_limit_window: int = Field(default=60, ge=1, le=86_400, description="Rate-limit window (s).")
    rate_limit_clients: int = Field(
        default=10_000, ge=16, le=1_000_000, description="Clients tracked per worker (least recent forgotten first)."
    )
    db_connect_timeout: float = Field(default=3.0, gt=0, le=120, description="Seconds to open a store connection.")
    db_statement_timeout: float = Field(
        default=5.0, gt=0, le=600, description="Seconds a store statement may run (PostgreSQL: also client-side)."
    )
    db_prepare_timeout: float = Field(
        default=300.0, gt=0, le=86_400, description="Seconds a statement may run while migrating and loading at start."
    )
    db_pool_timeout: float = Field(default=3.0, gt=0, le=120, description="Seconds to wait for a pooled connection.")
    db_breaker_failures: int = Field(
        default=3, ge=1, le=1000, description="Consecutive store failures that open the circuit breaker."
    )
    db_breaker_reset: float = Field(
        default=5.0, gt=0, le=600, description="Seconds an open breaker answers 503 at once before trying again."
    )
    store_retry_interval: float = Field(
        default=2.0, gt=0, le=600, description="Seconds between attempts to prepare a store that was away at start."
    )
    readiness_requires_writes: bool = Field(
        default=True,
        description="Readiness requires a writable store (false for app replicas on a read-only standby).",
    )
    store_min_free_bytes: int = Field(
        default=16_777_216, ge=0, description="SQLite: readiness fails with less free disk than this (bytes)."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address of the separate /metrics listener.")
    metrics_port: int = Field(
        default=0, ge=0, le=65_535, description="Serve /metrics on this port only (0: on the service's own port)."
    )
    fhir_canonical_base: str = Field(
        default="https://ldn-kb.example/fhir",
        pattern=r"^(https?|urn):[^\s|#?]+[^/\s|#?]$",
        description="Base of the canonical URLs of our FHIR StructureDefinitions, CodeSystems and ValueSets "
        "({base}/StructureDefinition/{id}, ...). An identity, not a link: never taken from the request; keep it "
        "stable.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("cors_origins", "cds_fhir_servers", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        """Comma-separated in the environment (a JSON list is read too); empty means no origin."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s*]+", origin.rstrip("/")):
                raise ValueError(f"{origin!r} is not an origin: use scheme://host[:port], or *")
        return value

    @field_validator("cds_fhir_servers")
    @classmethod
    def _fhir_servers(cls, value: list[str]) -> list[str]:
        from app.integrations.cds_hooks.fhir_client import valid_server

        for server in value:
            if not valid_server(server):
                raise ValueError(f"{server!r} is not a FHIR server base URL: use http(s)://host[:port]/path")
        return value

    @property
    def cache_bytes(self) -> int:
        """The response cache's bound in bytes (0 when off, also through the deprecated entries setting)."""
        return 0 if self.response_cache_entries == 0 else self.response_cache_bytes

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
