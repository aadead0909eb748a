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
    response_cache_entries: int = Field(default=4096, ge=0, le=1_000_000, description="Cached responses.")
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
    cds_fhir_timeout_seconds: float = Field(
        default=2.0, gt=0, le=10, description="Time limit (s) for those fhirServer reads in one CDS call."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("cors_origins", mode="before")
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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
