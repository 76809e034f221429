"""What each operator command asks the relay's API and prints: a table, a line, or --json."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from app.cli import tables, webhook_tables
from app.cli.relay_client import CliError, RelayClient

PAGE_MAX = 200  # the API's largest page; longer --limit values follow the cursor


def operator_command(handler: Callable[[object, RelayClient], None]) -> Callable[[object], int]:
    """`handler(args, client)` as a command: exit 0, or one line on stderr and 1 (the API
    refused) or 2 (usage, or no relay to talk to)."""

    @wraps(handler)
    def run(args) -> int:
        try:
            handler(args, RelayClient.from_args(args))
        except CliError as err:
            print(f"relay: {err}", file=sys.stderr, flush=True)
            return err.code
        return 0

    return run


def emit(args, body: dict, text: str, more: str | None = None) -> None:
    if getattr(args, "json", False):
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return
    print(text)
    if more:
        print(f"(more: repeat with --cursor {more})", file=sys.stderr)


def segment(value: str) -> str:
    """An id as one path segment: '../x' stays an id that does not exist."""
    return quote(value, safe="")


def collect(client: RelayClient, path: str, what: str, params: dict, limit: int) -> dict:
    """Up to `limit` rows, page after page: {"data": [...], "next_cursor": ...} like one page."""
    rows: list = []
    cursor = params.pop("cursor", None)
    while True:
        page_size = min(limit - len(rows), PAGE_MAX)
        page = client.get(path, what, {**params, "cursor": cursor, "limit": page_size})
        rows += page.get("data") or []
        cursor = page.get("next_cursor")
        if not cursor or len(rows) >= limit:
            return {"data": rows, "next_cursor": cursor}


@operator_command
def list_runs(args, client: RelayClient) -> None:
    params = {
        "status": args.state,
        "stored_action_id": args.stored_action,
        "created_after": args.since,
        "cursor": args.cursor,
    }
    page = collect(client, "/v1/runs", "runs", params, args.limit)
    emit(args, page, tables.runs_table(page["data"]), page["next_cursor"])


@operator_command
def show_run(args, client: RelayClient) -> None:
    body = client.get(f"/v1/runs/{segment(args.id)}", f"run {args.id}")
    emit(args, body, tables.run_detail(body["data"]))


@operator_command
def list_deliveries(args, client: RelayClient) -> None:
    params = {
        "state": args.state,
        "webhook_id": args.webhook,
        "run_id": args.run,
        "event_type": args.event_type,
        "since": args.since,
        "until": args.until,
        "cursor": args.cursor,
    }
    page = collect(client, "/v1/deliveries", "deliveries", params, args.limit)
    emit(args, page, tables.deliveries_table(page["data"]), page["next_cursor"])


@operator_command
def show_delivery(args, client: RelayClient) -> None:
    body = client.get(f"/v1/deliveries/{segment(args.id)}", f"delivery {args.id}")
    emit(args, body, tables.delivery_detail(body["data"]))


@operator_command
def redeliver(args, client: RelayClient) -> None:
    path = f"/v1/deliveries/{segment(args.delivery_id)}/redeliver"
    body = client.post(path, f"delivery {args.delivery_id}")
    d = body["data"]
    line = (
        f"delivery {d['id']} queued again ({d.get('state')}): {d.get('event_type')} "
        f"to {d.get('target_url')} under webhook-id {d.get('event_id')}"
    )
    emit(args, body, line)


@operator_command
def recover(args, client: RelayClient) -> None:
    window = {"since": args.since, **({"until": args.until} if args.until else {})}
    path = f"/v1/webhooks/{segment(args.webhook_id)}/recover"
    body = client.post(path, f"webhook {args.webhook_id}", window)
    queued, more = body["data"].get("queued", 0), body["data"].get("more", False)
    span = f"since {tables.when(args.since)}" + (
        f" until {tables.when(args.until)}" if args.until else ""
    )
    noun = "delivery" if queued == 1 else "deliveries"
    line = f"webhook {args.webhook_id}: {queued} failed {noun} queued again ({span})"
    if more:
        line += "\nmore are left: run the same command again to queue the next batch"
    emit(args, body, line)


@operator_command
def list_webhooks(args, client: RelayClient) -> None:
    body = client.get("/v1/webhooks", "webhooks")
    emit(args, body, webhook_tables.webhooks_table(body.get("data") or []))


@operator_command
def show_webhook(args, client: RelayClient) -> None:
    body = client.get(f"/v1/webhooks/{segment(args.id)}", f"webhook {args.id}")
    emit(args, body, webhook_tables.webhook_detail(body["data"]))
