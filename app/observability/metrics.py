"""/metrics: counts read from the store at scrape time, plus the live latency histograms."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from app.observability.histograms import add_live_collectors
from app.runs.states import RunState
from app.store import stats_repo
from app.store.engine import read


class StoreCollector:
    """Counts from the tables every process writes to; no per-process state to merge."""

    def __init__(self, services):
        self.services = services

    def describe(self):
        """Nothing up front: registering must not run the queries a second time."""
        return []

    def collect(self):
        with read(self.services.engine) as conn:
            counts = stats_repo.store_counts(conn)
        by_state = counts["runs_by_state"]
        by_source = counts["settled_by_source"]
        oldest = counts["oldest_open_created_at"]
        verdicts = counts["callback_verdicts"]
        calls = counts["upstream_calls"]
        attempts = counts["attempts_by_status"]
        pending = counts["deliveries_pending"]
        yield _gauge(
            "relay_runs",
            "Runs by state.",
            "state",
            [(s.value, by_state.get(s.value, 0)) for s in RunState],
        )
        yield _counter(
            "relay_runs_settled_by_source",
            "Runs settled by a callback or a poll.",
            "source",
            by_source,
        )
        age = time.time() - oldest if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "relay_oldest_open_run_age_seconds",
            "Age of the oldest run without a final state.",
            value=age,
        )
        yield _counter(
            "relay_callbacks_received", "Stored callbacks by verdict.", "verdict", verdicts
        )
        family = CounterMetricFamily(
            "relay_upstream_calls",
            "Upstream calls by operation and outcome.",
            labels=["operation", "outcome"],
        )
        for operation, outcome, count in calls:
            family.add_metric([operation, outcome], count)
        yield family
        yield _counter(
            "relay_delivery_attempts",
            "Delivery attempts by HTTP status (none: no answer).",
            "status",
            [(str(s) if s is not None else "none", n) for s, n in attempts],
        )
        yield GaugeMetricFamily(
            "relay_deliveries_pending", "Deliveries waiting for an attempt.", value=pending
        )
        budget = GaugeMetricFamily(
            "relay_upstream_budget_remaining",
            "Calls left in the shared upstream window.",
            labels=["bucket"],
        )
        for bucket, state in self.services.budget.snapshot().items():
            budget.add_metric([bucket], state["remaining"])
        yield budget


def _gauge(name, doc, label, rows):
    family = GaugeMetricFamily(name, doc, labels=[label])
    for value, count in rows:
        family.add_metric([value], count)
    return family


def _counter(name, doc, label, rows):
    family = CounterMetricFamily(name, doc, labels=[label])
    for value, count in rows:
        family.add_metric([value], count)
    return family


def render(services) -> bytes:
    """The store's counts, exact across every process and machine, and the live histograms.

    The histograms cover every process sharing PROMETHEUS_MULTIPROC_DIR, or this one alone.
    """
    registry = CollectorRegistry()
    add_live_collectors(registry)
    registry.register(StoreCollector(services))
    return generate_latest(registry)
