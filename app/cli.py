"""The ``ldn-kb`` command: serve, migrate, load-content, export-content, export-openapi."""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_settings import SettingsError

from app.content import DATA_DIR
from app.settings import get_settings, settings_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# The store's modules (SQLAlchemy, SQLModel, the migrations, the content loader) are imported by the
# commands that use them: `serve` with several workers runs a supervisor that needs none of them, and each
# worker imports what it needs itself.


def _store() -> Engine:
    from app.db import make_engine

    return make_engine(get_settings())


def openapi_yaml() -> str:
    """The OpenAPI document exactly as the app generates it, as YAML (no server, no database)."""
    import yaml

    from app.main import create_app

    document = create_app().openapi()
    return yaml.safe_dump(json.loads(json.dumps(document)), sort_keys=False, allow_unicode=True, width=100)


def settings_errors(exc: ValidationError | SettingsError) -> list[str]:
    """One line per invalid setting, naming its environment variable (the value is not echoed: it may be
    a secret, such as a database URL with a password)."""
    if isinstance(exc, ValidationError):
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            lines.append(f"LDNKB_{field.upper()}: {err['msg']}")
        return lines
    found = re.search(r'field "(\w+)"', str(exc))
    name = f"LDNKB_{found.group(1).upper()}" if found else "LDNKB_*"
    return [f"{name}: {exc}{'' if exc.__cause__ is None else f' ({exc.__cause__})'}"]


def _serve(args: argparse.Namespace) -> int:
    # No cyclic GC while the service imports and starts: the full collections it ran over the growing heap
    # took about 0.3 s of the start-up. The app's lifespan collects once, freezes and enables it again.
    gc.disable()
    import uvicorn

    from app.observability.logging import logging_config

    settings = get_settings()
    uvicorn.run(
        args.app,
        factory=True,
        log_config=logging_config(settings.log_level, settings.log_format),
        log_level=settings.log_level,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        ws="none",  # no WebSocket routes: skip importing a WebSocket protocol
        # Forwarded headers are read by the app, from LDNKB_TRUSTED_PROXIES only (app/api/hosts.py): uvicorn's
        # own reading trusts 127.0.0.1 by default, so a local client could name the scheme of everyone's links.
        proxy_headers=False,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from app import migrate

    engine = _store()
    migrate.upgrade(engine)
    print(f"migrated to {migrate.current_revision(engine)}")
    return 0


def _load(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from app import migrate
    from app.content.files import read_dataset
    from app.content.loader import load_dataset

    engine = _store()
    migrate.upgrade(engine)
    with Session(engine) as session:
        report = load_dataset(session, read_dataset(Path(args.folder)))
    for kind in report.created:
        print(
            f"{kind}: {report.created[kind]} created, {report.updated[kind]} updated, "
            f"{report.deleted.get(kind, 0)} deleted, {report.unchanged[kind]} unchanged"
        )
    print(f"content version {report.content_version}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from app.content.exporter import export_dataset
    from app.content.files import write_dataset

    engine = _store()
    with Session(engine) as session:
        written = write_dataset(export_dataset(session), Path(args.folder))
    for path in written:
        print(path)
    return 0


def _settings_table(_args: argparse.Namespace) -> int:
    sys.stdout.write(settings_table())
    return 0


def _export_openapi(args: argparse.Namespace) -> int:
    text = openapi_yaml()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ldn-kb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service (migrates and loads on first start)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--graceful-timeout", type=int, default=20, help="seconds for in-flight requests")
    serve.add_argument("--app", default="app.main:create_app", help=argparse.SUPPRESS)  # tests: an app factory
    serve.set_defaults(func=_serve)
    sub.add_parser("migrate", help="upgrade the store to the latest schema").set_defaults(func=_migrate)
    load = sub.add_parser("load-content", help="load the curated dataset (idempotent)")
    load.add_argument("--folder", default=str(DATA_DIR))
    load.set_defaults(func=_load)
    export = sub.add_parser("export-content", help="export the store to YAML files")
    export.add_argument("--folder", default=str(DATA_DIR))
    export.set_defaults(func=_export)
    openapi = sub.add_parser("export-openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default="openapi.yaml")
    openapi.set_defaults(func=_export_openapi)
    table = sub.add_parser("settings-table", help="print the README's table of LDNKB_ settings (Markdown)")
    table.set_defaults(func=_settings_table)
    args = parser.parse_args(argv)
    try:
        get_settings()
    except (ValidationError, SettingsError) as exc:
        print("ldn-kb: invalid settings:", file=sys.stderr)
        for line in settings_errors(exc):
            print(f"  {line}", file=sys.stderr)
        return 2
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
