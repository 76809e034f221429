"""The `relay` command: run (web + worker), worker, sandbox, listen, db upgrade."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from app.config.settings import ConfigError, load_settings
from app.observability.logs import configure_logging


def _settings_or_exit():
    try:
        return load_settings()
    except ConfigError as err:
        print(f"relay: configuration error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_worker(_args) -> int:
    from app.bootstrap import build_services
    from app.observability.event_metrics import start_worker_metrics
    from app.worker.loop import Worker

    settings = _settings_or_exit()
    exit_unless_schema_current(settings)
    if settings.sandbox:
        logging.getLogger("app").warning(
            "SANDBOX MODE: upstream is the built-in simulator at %s", settings.zapier_api_base
        )
    start_worker_metrics(settings.worker_metrics_port)
    # Upstream threads, the delivery engine's pool, the listener and a spare.
    Worker(build_services(settings, pool_size=settings.worker_threads + 8)).serve()
    return 0


def cmd_sandbox(args) -> int:
    from app.sandbox.standalone import serve

    settings = _settings_or_exit()
    serve(args.host, args.port, args.database_url or settings.sandbox_database_url)
    return 0


def cmd_db_upgrade(_args) -> int:
    from app.store.schema_version import SchemaNotCurrent, upgrade

    try:
        revision = upgrade(_settings_or_exit().database_url)
    except SchemaNotCurrent as err:
        print(f"relay: {err}", file=sys.stderr)
        return 1
    print(f"database schema is up to date (at {revision})")
    return 0


def exit_unless_schema_current(settings=None) -> None:
    """Refuse to start a web or worker process, with one line, unless the schema is at head."""
    from app.store.engine import DatabaseError
    from app.store.schema_version import SchemaNotCurrent, check_url

    settings = settings or _settings_or_exit()
    try:
        check_url(settings.database_url)
    except SchemaNotCurrent as err:
        print(f"relay: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    except DatabaseError as err:
        # Unreachable is not stale: the process starts and /readyz says 503 until it is back.
        logging.getLogger("app").warning("database schema not checked: %s", type(err).__name__)


def cmd_run(_args) -> int:
    from app.cli.devserver import run_web_and_worker

    _settings_or_exit()  # fail fast, with one clear line, before starting anything
    os.environ.setdefault("LOG_FORMAT", "text")  # for a person at a terminal, unless asked
    # Two gunicorn processes and a worker: one histogram dir, so any /metrics scrape has them all.
    instance = os.environ.get("RELAY_INSTANCE_DIR") or "instance"
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(instance, "prometheus"))
    return run_web_and_worker()


def cmd_listen(args) -> int:
    from app.cli.forward_printer import listen

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
    try:
        configure_logging()
    except ConfigError as err:
        print(f"relay: configuration error: {err}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
