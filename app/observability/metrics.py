"""/metrics: gauges of the open work read from the store, counters and histograms as observed.

The gauges come from the store, so they are exact across every process and machine; the
counters and histograms are merged across the processes sharing PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from app.accounts.selection import DEFAULT_ACCOUNT, virtual_default_origin
from app.observability.event_metrics import add_live_collectors
from app.runs.poll_plan import shortfall
from app.runs.states import OPEN_STATES
from app.store import accounts_repo, stats_repo
from app.store.engine import read


class OpenWorkCollector:
    """Gauges from the tables every process writes to; no per-process state to merge."""

    def __init__(self, services):
        self.services = services

    def describe(self):
        """Nothing up front: registering must not run the queries a second time."""
        return []

    def collect(self):
        with read(self.services.engine) as conn:
            work = stats_repo.open_work(conn)
        runs = GaugeMetricFamily("relay_runs", "Open runs by state.", labels=["state"])
        for state in sorted(OPEN_STATES):
            runs.add_metric([state.value], work["open_by_state"].get(state.value, 0))
        yield runs
        oldest = work["oldest_open_created_at"]
        yield GaugeMetricFamily(
            "relay_oldest_open_run_age_seconds",
            "Age of the oldest run without a final state.",
            value=time.time() - oldest if oldest is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "relay_deliveries_pending", "Deliveries waiting for an attempt.", value=work["pending"]
        )
        views = self._budget_views()
        yield self._budget(views)
        yield from self._polling(views)

    def _budget_views(self) -> dict:
        with read(self.services.engine) as conn:
            stored = [account["id"] for account in accounts_repo.list_accounts(conn)]
        if virtual_default_origin(self.services.settings) is not None:
            stored.append(DEFAULT_ACCOUNT)
        return self.services.budget.snapshot_accounts(accounts=stored)

    def _polling(self, views: dict):
        """Polls waiting for the budget, and how far it falls short of POLL_MAX_INTERVAL_SECONDS
        (see app/runs/poll_plan.shortfall); per account with METRICS_ACCOUNT_LABELS."""
        settings = self.services.settings
        now = time.time()
        with read(self.services.engine) as conn:
            load = stats_repo.poll_load(conn, now)
        labels = ["account"] if settings.metrics_account_labels else []
        due = GaugeMetricFamily(
            "relay_polls_due", "Polls due now, waiting their turn.", labels=labels
        )
        late = GaugeMetricFamily(
            "relay_poll_overdue_seconds",
            "How long the earliest due poll has waited past its time.",
            labels=labels,
        )
        short = GaugeMetricFamily(
            "relay_poll_budget_shortfall",
            "Polls per window the GET budget cannot cover to poll every open run every "
            "POLL_MAX_INTERVAL_SECONDS (0: covered).",
            labels=labels,
        )
        totals = [0, 0.0, 0]
        for account, work in sorted(load.items()):
            limit = views.get(account, {}).get("get", {}).get("limit", settings.zapier_get_limit)
            figures = (
                work["due"],
                now - work["first_due_at"] if work["first_due_at"] is not None else 0.0,
                shortfall(
                    work["open"],
                    limit,
                    settings.zapier_rate_window_seconds,
                    settings.poll_max_interval_seconds,
                ),
            )
            if labels:
                for family, value in zip((due, late, short), figures, strict=True):
                    family.add_metric([account], value)
            totals = [totals[0] + figures[0], max(totals[1], figures[1]), totals[2] + figures[2]]
        if not labels:
            for family, value in zip((due, late, short), totals, strict=True):
                family.add_metric([], value)
        yield from (due, late, short)

    def _budget(self, views: dict) -> GaugeMetricFamily:
        """Calls left per account and bucket; summed per bucket when METRICS_ACCOUNT_LABELS is
        off, so that thousands of accounts do not make thousands of series."""
        help_text = "Calls left in the account's current upstream window (+Inf: exempt)."
        if not self.services.settings.metrics_account_labels:
            family = GaugeMetricFamily(
                "relay_upstream_budget_remaining", help_text, labels=["bucket"]
            )
            totals: dict[str, float] = {}
            for view in views.values():
                for bucket, state in view.items():
                    totals[bucket] = totals.get(bucket, 0) + state["remaining"]
            for bucket, remaining in sorted(totals.items()):
                family.add_metric([bucket], remaining)
            return family
        family = GaugeMetricFamily(
            "relay_upstream_budget_remaining", help_text, labels=["account", "bucket"]
        )
        for account, view in views.items():
            for bucket, state in view.items():
                family.add_metric([account, bucket], state["remaining"])
        return family


def render(services) -> bytes:
    """The open work, exact across every process and machine, and the live counters."""
    registry = CollectorRegistry()
    add_live_collectors(registry)
    registry.register(OpenWorkCollector(services))
    return generate_latest(registry)
