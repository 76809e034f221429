"""The operator commands of `relay` (runs, deliveries, redeliver, recover, webhooks): a client of
the HTTP API at RELAY_URL with RELAY_API_KEY, printing tables or --json."""

from __future__ import annotations

import argparse

from app.cli import operator_commands as commands
from app.cli.time_args import time_arg
from app.runs.states import RunState

# The list filter's states (app/schemas/operator.py DELIVERY_STATES; a unit test holds them equal).
DELIVERY_STATES = ("pending", "paused", "held", "delivered", "succeeded", "failed", "gone")
ENVIRONMENT = """environment:
  RELAY_URL      the relay's base URL (default: http://127.0.0.1:8000)
  RELAY_API_KEY  a key of the relay's RELAY_API_KEYS (none for a sandbox-mode relay)

exit codes: 0 done, 1 the API refused, 2 usage error or no relay reachable"""


def limit_arg(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 10000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 10000, got {text!r}")
    return limit


def common_options() -> argparse.ArgumentParser:
    """--url, --api-key and --json, taken before or after a nested `show`. SUPPRESS keeps a
    nested parser's defaults from overwriting what its parent already read."""
    common = argparse.ArgumentParser(add_help=False)
    hidden = argparse.SUPPRESS
    common.add_argument("--url", default=hidden, help="the relay's base URL (default: RELAY_URL)")
    common.add_argument(
        "--api-key",
        default=hidden,
        help="default: RELAY_API_KEY (prefer the variable: arguments show in `ps`)",
    )
    common.add_argument("--json", action="store_true", default=hidden, help="print the API's JSON")
    return common


def paging(parser: argparse.ArgumentParser, default: int = 20) -> None:
    parser.add_argument(
        "--limit", type=limit_arg, default=default, help=f"at most N, newest first ({default})"
    )
    parser.add_argument("--cursor", help="continue where a previous listing stopped")


def window(parser: argparse.ArgumentParser, since_help: str) -> None:
    parser.add_argument("--since", type=time_arg, metavar="WHEN", help=since_help)


def add_operator_commands(sub) -> None:
    """Add the operator commands to `relay`'s subparsers."""
    common = common_options()

    def command(parent, name: str, help_text: str, func) -> argparse.ArgumentParser:
        parser = parent.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=ENVIRONMENT,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(func=func)
        return parser

    runs = command(sub, "runs", "list runs (`runs show ID` for one)", commands.list_runs)
    runs.add_argument("--state", choices=[s.value for s in RunState])
    runs.add_argument("--stored-action", metavar="ID", help="runs of this stored action")
    window(runs, "created since: 30m, 2h, 3d, or an ISO 8601 time")
    paging(runs)
    show_run = runs.add_subparsers(dest="runs_command", metavar="[show ID]")
    command(show_run, "show", "a run: its deliveries and timeline", commands.show_run).add_argument(
        "id"
    )

    deliveries = command(
        sub, "deliveries", "list deliveries (`deliveries show ID`)", commands.list_deliveries
    )
    deliveries.add_argument("--state", choices=DELIVERY_STATES)
    deliveries.add_argument("--webhook", metavar="ID", help="to this webhook (target)")
    deliveries.add_argument("--run", metavar="ID", help="of this run")
    deliveries.add_argument("--event-type", metavar="TYPE", help="e.g. run.succeeded")
    window(deliveries, "created since: 30m, 2h, 3d, or an ISO 8601 time")
    deliveries.add_argument("--until", type=time_arg, metavar="WHEN", help="created before")
    paging(deliveries)
    show_delivery = deliveries.add_subparsers(dest="deliveries_command", metavar="[show ID]")
    command(
        show_delivery, "show", "a delivery with every attempt", commands.show_delivery
    ).add_argument("id")

    command(
        sub, "redeliver", "send one delivery again, under its webhook-id", commands.redeliver
    ).add_argument("delivery_id")

    recover = command(
        sub, "recover", "queue a webhook's failed deliveries again, by time", commands.recover
    )
    recover.add_argument("webhook_id")
    recover.add_argument(
        "--since", type=time_arg, metavar="WHEN", required=True, help="30m, 2h, 3d or ISO 8601"
    )
    recover.add_argument("--until", type=time_arg, metavar="WHEN", help="default: now")

    webhooks = command(
        sub, "webhooks", "webhooks and their health (`webhooks show ID`)", commands.list_webhooks
    )
    show_webhook = webhooks.add_subparsers(dest="webhooks_command", metavar="[show ID]")
    command(
        show_webhook, "show", "a webhook's health and 24 h success rate", commands.show_webhook
    ).add_argument("id")
