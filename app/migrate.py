"""Running Alembic from the application (start-up, CLI, tests).

Alembic is imported only when a migration actually runs: importing it took about a fifth of the
service's start-up, and a restart on a store already at the latest revision needs none of it. That
case is recognised with :func:`head_revision` (read from the revision files themselves; a test keeps it
equal to Alembic's own answer) and :func:`current_revision` (one plain query).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r'^revision\s*(?::[^=]*)?=\s*["\']([^"\']+)["\']', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision\s*(?::[^=]*)?=\s*(?:["\']([^"\']+)["\']|None)', re.MULTILINE)


def migrations_dir() -> Path:
    """The Alembic scripts, found from the package, never from the working directory: ``app/migrations``
    in an installed wheel (setup.py ships the top-level folder there), else the source tree's
    ``migrations/`` beside ``app/`` (a checkout or an editable install)."""
    package = Path(__file__).resolve().parent
    shipped = package / "migrations"
    return shipped if (shipped / "env.py").is_file() else package.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def upgrade_to_head(engine: Engine) -> None:
    """:func:`upgrade` to the latest revision, unless the store is there already (then Alembic is not loaded)."""
    head = head_revision()
    if head is None or current_revision(engine) != head:
        upgrade(engine)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@cache
def head_revision() -> str | None:
    """The one revision no other revision builds on, read from ``migrations/versions``; None when the files
    do not give exactly one (a branch, or a layout this reader does not know), so callers fall back on Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def alembic_head_revision(engine: Engine) -> str | None:
    """The head as Alembic computes it (the readiness check's fallback, and the test of :func:`head_revision`)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The store's revision (None before the first migration), without loading Alembic."""
    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return None
        revision: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return revision
