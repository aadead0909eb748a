"""The ``ldn-kb`` command: serve, migrate, load-content, export-content, export-openapi."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from sqlmodel import Session

from app import migrate
from app.content.exporter import export_dataset
from app.content.files import DATA_DIR, read_dataset, write_dataset
from app.content.loader import load_dataset
from app.db import make_engine
from app.settings import get_settings


def openapi_yaml() -> str:
    """The OpenAPI document exactly as the app generates it, as YAML (no server, no database)."""
    from app.main import create_app

    document = create_app().openapi()
    return yaml.safe_dump(json.loads(json.dumps(document)), sort_keys=False, allow_unicode=True, width=100)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    engine = make_engine(get_settings())
    migrate.upgrade(engine)
    print(f"migrated to {migrate.current_revision(engine)}")
    return 0


def _load(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings())
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
    engine = make_engine(get_settings())
    with Session(engine) as session:
        written = write_dataset(export_dataset(session), Path(args.folder))
    for path in written:
        print(path)
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
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
