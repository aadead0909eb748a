"""Every setting of the service, read once from the environment (prefix ``LDNKB_``).

Invalid values fail at start with pydantic's message naming the variable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins ('*' for any).")
    cache_max_age: int = Field(default=300, ge=0, le=31_536_000, description="Cache-Control max-age (s).")
    cache_stale_while_revalidate: int = Field(
        default=3600, ge=0, le=31_536_000, description="Cache-Control stale-while-revalidate (s)."
    )
    content_check_interval: float = Field(
        default=2.0, ge=0, le=3600, description="Seconds between checks for a new content version."
    )
    response_cache_entries: int = Field(default=4096, ge=0, le=1_000_000, description="Cached responses.")
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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()


def _type_name(annotation: object) -> str:
    args = getattr(annotation, "__args__", ())
    if getattr(annotation, "__origin__", None) is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _bounds(metadata: list[object]) -> str:
    low = next((getattr(m, "ge", None) for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((getattr(m, "le", None) for m in metadata if getattr(m, "le", None) is not None), None)
    if low is None and high is None:
        return ""
    return f" ({'' if low is None else low}…{'' if high is None else high})"


def settings_table() -> str:
    """The README's settings table, rendered from the Settings model (a test keeps the README in step)."""
    lines = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        cell = "*(empty)*" if shown == "" else f"`{shown}`"
        kind = _type_name(info.annotation) + _bounds(list(info.metadata))
        about = (info.description or "").replace("|", "\\|")
        lines.append(f"| `LDNKB_{name.upper()}` | {kind} | {cell} | {about} |")
    return "\n".join(lines) + "\n"
