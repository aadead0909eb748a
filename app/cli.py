"""The ``ldn-kb`` command: serve, migrate, load-content, check-content, export-content, export-bulk,
import-bulk, export-openapi, build-examples, settings-table. The build-time commands import app/buildtime, which the service never does."""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from app.content import DATA_DIR
from app.settings import Settings, get_settings

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

    # The document needs no store: an in-memory SQLite URL opens nothing and creates no data/ folder.
    settings = get_settings().model_copy(update={"database_url": "sqlite:///:memory:"})
    document = create_app(settings).openapi()
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

    from app.memory import bound_heap_growth

    bound_heap_growth()  # large bodies freed go back to the system (app/memory.py)

    from app.observability.logging import logging_config

    settings = get_settings()
    limits = serve_limits(settings)
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
        **limits,
    )
    return 0


def serve_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the request limits: our httptools protocol (414, 431, slow headers: 408) when
    httptools is installed, else h11 with its bound on the request head; idle keep-alive connections close
    after ``LDNKB_KEEP_ALIVE_TIMEOUT`` seconds."""
    options: dict[str, Any] = {"timeout_keep_alive": settings.keep_alive_timeout}
    try:
        import httptools  # noqa: F401
    except ImportError:
        options["http"] = "h11"
        options["h11_max_incomplete_event_size"] = settings.max_url_bytes + settings.max_header_bytes
    else:
        options["http"] = "app.api.protocol:GuardedHttpToolsProtocol"
    return options


def _migrate(_args: argparse.Namespace) -> int:
    from app import migrate

    engine = _store()
    migrate.upgrade(engine)
    print(f"migrated to {migrate.current_revision(engine)}")
    return 0


def _load(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from app import migrate
    from app.content.check import ContentProblems
    from app.content.files import read_dataset
    from app.content.loader import ContentError, load_dataset

    try:
        dataset = read_dataset(Path(args.folder))
    except ContentProblems as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing loaded", file=sys.stderr)
        return 1
    engine = _store()
    migrate.upgrade(engine)
    try:
        with Session(engine) as session:
            report = load_dataset(session, dataset)
    except ContentError as exc:
        print(f"{args.folder}: {exc}: nothing loaded", file=sys.stderr)
        return 1
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


def _export_bulk(args: argparse.Namespace) -> int:
    from app.services.bulk_dir import BulkError, write_bulk

    try:
        written = write_bulk(_store(), Path(args.folder))
    except BulkError as exc:
        print(f"ldn-kb export-bulk: {exc}", file=sys.stderr)
        return 1
    for name in written.files:
        print(written.folder / name)
    print(f"content version {written.content_version}")
    return 0


def _import_bulk(args: argparse.Namespace) -> int:
    from app.db import statement_timeout
    from app.services.bulk_dir import BulkError, import_bulk, verify_bulk

    settings = get_settings()
    try:
        verified = verify_bulk(Path(args.folder))  # every file checked before the store is touched
        with statement_timeout(settings.db_prepare_timeout):
            done = import_bulk(_store(), verified, replace=args.replace)
    except BulkError as exc:
        print(f"ldn-kb import-bulk: {exc}", file=sys.stderr)
        return 1
    print(
        f"content version {done.content_version}: {done.rows} rows imported"
        + (" (the store's previous content replaced)" if done.replaced else "")
    )
    return 0


def _settings_table(_args: argparse.Namespace) -> int:
    from app.buildtime.settings_table import settings_table

    sys.stdout.write(settings_table())
    return 0


def _build_examples(args: argparse.Namespace) -> int:
    from app.buildtime.examples import write

    print(write(Path(args.output)) if args.output else write())
    return 0


def _check_content(args: argparse.Namespace) -> int:
    from app.content.check import check_folder

    problems = check_folder(Path(args.folder))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {args.folder}", file=sys.stderr)
        return 1
    print(f"{args.folder}: no problems")
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
    bulk_out = sub.add_parser(
        "export-bulk", help="write the bulk export (manifest.json, NDJSON.gz per kind, the store's rows) to a folder"
    )
    bulk_out.add_argument("folder")
    bulk_out.set_defaults(func=_export_bulk)
    bulk_in = sub.add_parser(
        "import-bulk", help="verify a bulk export folder, then import it into the store (LDNKB_DATABASE_URL)"
    )
    bulk_in.add_argument("folder")
    bulk_in.add_argument(
        "--replace", action="store_true", help="replace a store that holds content (in one transaction)"
    )
    bulk_in.set_defaults(func=_import_bulk)
    openapi = sub.add_parser("export-openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default="openapi.yaml")
    openapi.set_defaults(func=_export_openapi)
    check = sub.add_parser(
        "check-content", help="validate the dataset files without loading them (file:line slug field: message)"
    )
    check.add_argument("--folder", default=str(DATA_DIR))
    check.set_defaults(func=_check_content)
    examples = sub.add_parser("build-examples", help="record the OpenAPI examples from real answers (examples.json)")
    examples.add_argument("--output", default="", help="file to write (default: app/schemas/examples.json)")
    examples.set_defaults(func=_build_examples)
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
