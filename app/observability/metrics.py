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
        yield self._budget()

    def _budget(self) -> GaugeMetricFamily:
        """Calls left per account and bucket; summed per bucket when METRICS_ACCOUNT_LABELS is
        off, so that thousands of accounts do not make thousands of series."""
        with read(self.services.engine) as conn:
            stored = [account["id"] for account in accounts_repo.list_accounts(conn)]
        if virtual_default_origin(self.services.settings) is not None:
            stored.append(DEFAULT_ACCOUNT)
        views = self.services.budget.snapshot_accounts(accounts=stored)
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
