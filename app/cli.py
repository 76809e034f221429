"""The `relay` command: run (web + worker), worker, sandbox, listen, db upgrade."""

from __future__ import annotations

import argparse
import logging
import sys

from app.config import ConfigError, load_settings
from app.logs import configure_logging


def _settings_or_exit():
    try:
        return load_settings()
    except ConfigError as err:
        print(f"relay: configuration error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_worker(_args) -> int:
    from app.services import build_services
    from app.worker.loop import Worker

    settings = _settings_or_exit()
    if settings.sandbox:
        logging.getLogger("app").warning(
            "SANDBOX MODE: upstream is the built-in simulator at %s", settings.zapier_api_base
        )
    Worker(build_services(settings, pool_size=settings.worker_threads + 2)).serve()
    return 0


def cmd_sandbox(args) -> int:
    from app.sandbox.standalone import serve

    settings = _settings_or_exit()
    serve(args.host, args.port, args.database_url or settings.sandbox_database_url)
    return 0


def cmd_db_upgrade(_args) -> int:
    from app.store.engine import build_engine
    from app.store.tables import create_schema

    engine = build_engine(_settings_or_exit().database_url)
    create_schema(engine)
    engine.dispose()
    print("database schema is up to date")
    return 0


def cmd_run(_args) -> int:
    from app.devserver import run_web_and_worker

    _settings_or_exit()  # fail fast, with one clear line, before starting anything
    return run_web_and_worker()


def cmd_listen(args) -> int:
    from app.listener import listen

    settings = _settings_or_exit()
    listen(args.host, args.port, args.secret or settings.forward_secret)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="web (gunicorn) and worker together, for development").set_defaults(
        func=cmd_run
    )
    sub.add_parser("worker", help="the worker loop").set_defaults(func=cmd_worker)
    sandbox = sub.add_parser("sandbox", help="the upstream simulator on its own")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8100)
    sandbox.add_argument("--database-url", default=None)
    sandbox.set_defaults(func=cmd_sandbox)
    listen = sub.add_parser("listen", help="a receiver that prints verified forwards")
    listen.add_argument("--host", default="127.0.0.1")
    listen.add_argument("--port", type=int, default=9000)
    listen.add_argument("--secret", default=None, help="whsec_... (default: FORWARD_SECRET)")
    listen.set_defaults(func=cmd_listen)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or upgrade the schema").set_defaults(
        func=cmd_db_upgrade
    )
    args = parser.parse_args(argv)
    configure_logging()
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
