"""The console's overview of the last 24 h: runs, callback share, latency, budget, trouble."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from app.accounts.service import list_accounts
from app.console import charts
from app.delivery.listing import deliveries_page
from app.delivery.targets import list_targets
from app.runs.states import RunState
from app.store import console_stats_repo
from app.store.engine import read

DAY, HOUR = 86400.0, 3600.0
LATENCY_SAMPLE = 5000  # the newest forwards the percentiles are taken from: a bounded read
TROUBLE_ROWS = 10
BUDGET_WINDOWS = 12
# The gateway charges these operations to the "run" bucket and every other call to "get".
RUN_OPERATIONS = frozenset({"run_stored_action", "create_action_run"})


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (0 < fraction <= 1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def budget_rows(snapshot: dict) -> list[dict]:
    """RateBudget.snapshot() as rows of account, bucket and figures, whichever shape it has:
    {bucket: figures}, {"<account>/<bucket>": figures} or {account: {bucket: figures}}."""
    rows = []
    for key, value in snapshot.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            rows += [{"account": key, "bucket": b, **figures} for b, figures in value.items()]
            continue
        account, _, bucket = key.rpartition("/")
        rows.append({"account": account or "default", "bucket": bucket, **value})
    for row in rows:
        if row.get("remaining") == math.inf:
            row["remaining"] = None  # an exempt bucket: no limit to count down
    return sorted(rows, key=lambda row: (row["account"], row["bucket"]))


def _hour_label(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%H:%M")


def _source_share(sources: dict[str, tuple[int, int]]) -> dict:
    by_source = {name: sources.get(name, (0, 0))[0] for name in ("callback", "poll")}
    stored = {name: sources.get(name, (0, 0))[1] for name in ("callback", "poll")}
    settled = sum(by_source.values())
    expected = sum(stored.values())
    return {
        **by_source,
        "settled": settled,
        "callback_share": by_source["callback"] / settled if settled else None,
        # Stored actions call back; a result that had to be polled is a callback missed.
        "miss_rate": stored["poll"] / expected if expected else None,
    }


def _latency_by_hour(samples: list[tuple[float, float]], start: float) -> dict:
    hours: list[list[float]] = [[] for _ in range(24)]
    for at, wait in samples:
        slot = int((at - start) // HOUR)
        if 0 <= slot < 24:
            hours[slot].append(wait)
    return {
        "p50": [percentile(h, 0.5) for h in hours],
        "p99": [percentile(h, 0.99) for h in hours],
    }


def _budget_charts(calls: dict[str, list[int]], limits: dict, start: float, window: float):
    labels = [_hour_label(start + (i + 1) * window) for i in range(BUDGET_WINDOWS)]
    used = {"run": [0] * BUDGET_WINDOWS, "get": [0] * BUDGET_WINDOWS}
    for operation, counts in calls.items():
        bucket = used["run" if operation in RUN_OPERATIONS else "get"]
        for i, count in enumerate(counts):
            bucket[i] += count
    return {
        f"budget_{name}": _chart(
            f"Upstream {name} calls per {window / 60:g}-minute window, every account",
            charts.bars_with_limit,
            labels,
            values,
            float(limits.get(name) or max(values, default=0)),
        )
        for name, values in used.items()
    }


def _chart(title: str, draw, *args) -> dict:
    return {"title": title, "svg": draw(title, *args)}


def overview(services, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    since = now - DAY
    hour_start = math.floor(now / HOUR) * HOUR - 23 * HOUR
    window = services.budget.window_seconds
    window_start = now - BUDGET_WINDOWS * window
    with read(services.engine) as conn:
        by_state = console_stats_repo.runs_by_state(conn, since)
        sources = console_stats_repo.settle_sources(conn, since)
        per_hour = console_stats_repo.settled_per_slot(conn, hour_start, HOUR, 24)
        latencies = console_stats_repo.forward_latencies(conn, since, LATENCY_SAMPLE)
        attempt_ms = console_stats_repo.attempt_latencies(conn, since, LATENCY_SAMPLE)
        calls = console_stats_repo.calls_per_slot(conn, window_start, window, BUDGET_WINDOWS)
        oldest = console_stats_repo.oldest_open_run(conn)
    waits = [wait for _, wait in latencies]
    hour_labels = [_hour_label(hour_start + i * HOUR) for i in range(24)]
    by_hour = _latency_by_hour(latencies, hour_start)
    targets = list_targets(services)
    account_ids = [account["id"] for account in list_accounts(services)]
    limits = services.budget.limits if isinstance(services.budget.limits, dict) else {}
    return {
        "now": now,
        "runs_by_state": {state.value: by_state.get(state.value, 0) for state in RunState},
        "runs_total": sum(by_state.values()),
        "sources": _source_share(sources),
        "latency": {
            "samples": len(waits),
            "p50": percentile(waits, 0.5),
            "p99": percentile(waits, 0.99),
            "attempt_p50_ms": percentile(attempt_ms, 0.5),
            "attempt_p99_ms": percentile(attempt_ms, 0.99),
        },
        "budget": budget_rows(services.budget.snapshot_accounts(now, account_ids)),
        "troubled_targets": [t for t in targets if _troubled(t["health"])],
        "target_count": len(targets),
        "failed": deliveries_page(services, {"state": "failed", "limit": TROUBLE_ROWS})["data"],
        "held": deliveries_page(services, {"state": "held", "limit": TROUBLE_ROWS})["data"],
        "paused": deliveries_page(services, {"state": "paused", "limit": TROUBLE_ROWS})["data"],
        "oldest_open": oldest,
        "charts": {
            "runs": _chart(
                "Runs settled per hour, by source (UTC)",
                charts.stacked_bars,
                hour_labels,
                {s: per_hour.get(s, [0] * 24) for s in console_stats_repo.SETTLE_SOURCES},
            ),
            "latency": _chart(
                "Forward latency per hour, settled to delivered (UTC)",
                charts.line_chart,
                hour_labels,
                by_hour,
                " s",
            ),
            **_budget_charts(calls, limits, window_start, window),
        },
    }


def _troubled(health: dict) -> bool:
    return health["state"] != "enabled" or health["consecutive_failures"] > 0
