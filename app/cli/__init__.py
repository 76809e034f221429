"""The `relay` command: run (web + worker), worker, sandbox, listen, db upgrade."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.cli.startup import exit_unless_schema_current, fail, settings_or_exit
from app.config.settings import ConfigError
from app.observability.logs import configure_logging


def cmd_worker(_args) -> int:
    from app.bootstrap import build_services
    from app.cli.startup import database_problem
    from app.observability.event_metrics import start_worker_metrics
    from app.store.engine import DatabaseError
    from app.worker.loop import Worker

    settings = settings_or_exit()
    exit_unless_schema_current(settings, web=False)
    start_worker_metrics(settings.worker_metrics_port, settings.bind_host)
    try:
        # Upstream threads, the delivery engine's pool, the listener and a spare.
        services = build_services(settings, pool_size=settings.worker_threads + 8)
    except DatabaseError as err:  # gone since the check a moment ago
        raise fail(database_problem(settings.database_url, err), 1) from None
    Worker(services).serve()
    return 0


def cmd_sandbox(args) -> int:
    from app.config.processes import checked_database_url
    from app.sandbox.standalone import serve

    settings = settings_or_exit()
    database_url = settings.sandbox_database_url
    if args.database_url:
        try:
            instance = Path(settings.instance_dir)
            database_url = checked_database_url("--database-url", args.database_url, instance)
        except ConfigError as err:
            raise fail(f"configuration error: {err}", 2) from None
    serve(args.host, args.port, database_url)
    return 0


def cmd_db_upgrade(_args) -> int:
    from app.cli.startup import database_problem
    from app.store.engine import DatabaseError
    from app.store.schema_version import SchemaNotCurrent, upgrade

    settings = settings_or_exit()
    try:
        revision = upgrade(settings.database_url)
    except SchemaNotCurrent as err:
        raise fail(str(err), 1) from None
    except DatabaseError as err:
        raise fail(database_problem(settings.database_url, err), 1) from None
    print(f"database schema is up to date (at {revision})")
    return 0


def cmd_run(_args) -> int:
    from app.cli.devserver import run_web_and_worker

    settings = settings_or_exit()  # fail fast, with one clear line, before starting anything
    # Two gunicorn processes and a worker: one histogram dir, so any /metrics scrape has them all.
    multiproc = os.path.join(settings.instance_dir, "prometheus")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", multiproc)
    return run_web_and_worker(settings)


def cmd_listen(args) -> int:
    from app.cli.forward_printer import listen

    return listen(args.host, args.port, args.secret)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="web (gunicorn) and worker together, for development").set_defaults(
        func=cmd_run
    )
    sub.add_parser("worker", help="the worker loop").set_defaults(func=cmd_worker)
    sandbox = sub.add_parser("sandbox", help="the upstream simulator on its own")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=port_number, default=8100, help="port to listen on")
    sandbox.add_argument("--database-url", default=None, help="default: SANDBOX_DATABASE_URL")
    sandbox.set_defaults(func=cmd_sandbox)
    listen = sub.add_parser(
        "listen",
        help="a receiver that prints verified forwards",
        description="Receive forwards, verify their Standard Webhooks signature and print them. "
        "Reads no relay setting but FORWARD_SECRET.",
    )
    listen.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    listen.add_argument(
        "--port", type=port_number, default=9000, help="port to listen on (default: 9000)"
    )
    listen.add_argument(
        "--secret",
        action="append",
        metavar="WHSEC",
        help="a whsec_... secret to verify with; repeat it for several targets (a forward is "
        "verified if any matches). Default: FORWARD_SECRET, else the sandbox's fixed secret",
    )
    listen.set_defaults(func=cmd_listen)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or upgrade the schema").set_defaults(
        func=cmd_db_upgrade
    )
    from app.cli.operator import add_operator_commands  # runs, deliveries, recover, webhooks

    add_operator_commands(sub)
    from app.cli.accounts_command import add_accounts_commands  # accounts reencrypt

    add_accounts_commands(sub)
    args = parser.parse_args(argv)
    if args.command == "run":
        # For a person at a terminal, unless asked: this process's lines and its children's.
        os.environ.setdefault("LOG_FORMAT", "text")
    try:
        configure_logging()
    except ConfigError as err:
        print(f"relay: configuration error: {err}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
