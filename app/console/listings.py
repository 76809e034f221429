"""The console's reads beyond the client API's: runs by any filter, one run without its token,
deliveries troubled first, targets with their 24 h success rate, accounts with their budget."""

from __future__ import annotations

import time

from app.accounts.service import list_accounts
from app.console.formatting import pretty_json
from app.console.overview import budget_rows
from app.delivery.listing import deliveries_page
from app.delivery.targets import get_target, list_targets
from app.runs.listing import get_run
from app.runs.tokens import callback_token
from app.schemas.cursors import decode_cursor, encode_cursor
from app.store import console_stats_repo
from app.store.engine import read

PAGE_SIZE = 50
# The states an operator acts on, in the order the deliveries page shows them.
TROUBLE_STATES = ("failed", "held", "paused")
REDACTED = "[redacted]"


def search_runs(services, filters: dict, cursor: str | None = None) -> dict:
    """Newest first, by the filters app/console/filters.py reads (account and a time range
    included, which /v1/runs has not); an unreadable cursor starts from the top."""
    after = decode_cursor(cursor) if cursor else None
    with read(services.engine) as conn:
        rows = console_stats_repo.search_runs(conn, filters, after, PAGE_SIZE + 1)
    page = rows[:PAGE_SIZE]
    more = len(rows) > PAGE_SIZE
    return {"data": page, "next_cursor": encode_cursor(page[-1]) if more else None}


def run_page(services, run_id: str) -> dict:
    """get_run's detail, with the result JSON as indented text. The run's callback token is
    scrubbed from that text: upstream may echo the callback URL it was given in its body."""
    run = get_run(services, run_id)
    token = callback_token(services.settings.relay_secret, run["id"])
    result = run["result"]
    text = pretty_json(result).replace(token, REDACTED) if result is not None else None
    return {**run, "result_text": text, "request_json": None}


def delivery_board(services, query: dict) -> dict:
    """Failed, held and paused deliveries first (unless one state is asked for), then the
    page the query asks for, and the targets a recovery can be aimed at."""
    troubled = {}
    if not query.get("state"):
        troubled = {
            state: deliveries_page(services, {"state": state, "limit": PAGE_SIZE})["data"]
            for state in TROUBLE_STATES
        }
    page = deliveries_page(services, {"limit": PAGE_SIZE, **query})
    return {"troubled": troubled, "page": page, "targets": list_targets(services)}


def target_board(services) -> list[dict]:
    """Every target with its health and its success rate over the last 24 h."""
    return [get_target(services, target["id"]) for target in list_targets(services)]


def account_board(services) -> list[dict]:
    """Every account (the configured `default` included) with its budget rows."""
    accounts = list_accounts(services)
    snapshot = services.budget.snapshot_accounts(time.time(), [a["id"] for a in accounts])
    rows = budget_rows(snapshot)
    return [{**a, "budget": [r for r in rows if r["account"] == a["id"]]} for a in accounts]
