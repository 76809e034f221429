"""Counters and latency histograms observed where events happen, shared through a directory.

With PROMETHEUS_MULTIPROC_DIR set (it must be, before prometheus_client is imported, for every
gunicorn process and the worker on the machine), each process writes its observations to files
there and a scrape of any one process merges them all. Unset, each process counts on its own,
which is right for a single process (tests, one gunicorn worker).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

# Labelled histograms open no file before their first observation, so importing this module in
# the gunicorn master (before the multiprocess dir exists) is safe.
CALLBACK_LATENESS = Histogram(
    "relay_callback_lateness_seconds",
    "Callback received minus the run's submission (its creation, if upstream called back first).",
    ["verdict"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400),
    registry=None,
)
DELIVERY_LATENCY = Histogram(
    "relay_delivery_latency_seconds",
    "Run settled to its forward answered 2xx, retries included.",
    ["event"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000, 86400),
    registry=None,
)
UPSTREAM_REQUEST = Histogram(
    "relay_upstream_request_seconds",
    "Duration of one upstream HTTP call (budget refusals are not calls).",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)
# Counted as they happen, not counted from the tables: a scrape costs the same whatever the
# history size (a full-table GROUP BY grew from 17 ms to 271 ms at 880k rows).
SETTLED = Counter(
    "relay_runs_settled",
    "Runs that reached a final state, by state and source (callback, poll, none).",
    ["state", "source"],
    registry=None,
)
CALLBACKS = Counter(
    "relay_callbacks_received", "Stored callbacks by verdict.", ["verdict"], registry=None
)
UPSTREAM_CALLS = Counter(
    "relay_upstream_calls", "Upstream calls by operation and outcome.", ["operation", "outcome"],
    registry=None,
)  # fmt: skip
ATTEMPTS = Counter(
    "relay_delivery_attempts",
    "Delivery attempts by HTTP status (none: no answer).",
    ["status"],
    registry=None,
)
PURGED = Counter(
    "relay_purged_rows",
    "Rows deleted by retention (RETENTION_DAYS), by table.",
    ["table"],
    registry=None,
)
HISTOGRAMS = (CALLBACK_LATENESS, DELIVERY_LATENCY, UPSTREAM_REQUEST)
COUNTERS = (SETTLED, CALLBACKS, UPSTREAM_CALLS, ATTEMPTS, PURGED)


def observe_callback(run: dict, verdict: str, received_at: float) -> None:
    since = run.get("submitted_at") or run["created_at"]
    _observe(CALLBACK_LATENESS.labels(verdict), received_at - since)
    _count(CALLBACKS.labels(str(verdict)))


def observe_settled(state: str, source: str | None) -> None:
    _count(SETTLED.labels(str(state), source or "none"))


def observe_delivery(delivery: dict, result) -> None:
    _count(ATTEMPTS.labels(str(result.status) if result.status is not None else "none"))
    if result.delivered:
        _observe(
            DELIVERY_LATENCY.labels(delivery["event_type"]), time.time() - delivery["created_at"]
        )


def observe_upstream(operation: str, outcome) -> None:
    _observe(UPSTREAM_REQUEST.labels(operation), outcome.latency_ms / 1000.0)
    _count(UPSTREAM_CALLS.labels(operation, outcome.kind))


def observe_purged(rows_by_table) -> None:
    for table, rows in sorted(rows_by_table.items()):
        _count(PURGED.labels(str(table)), rows)


def _count(child, amount: float = 1) -> None:
    try:
        child.inc(amount)
    except OSError:
        log.warning("could not record a metric in %s", multiproc_dir(), exc_info=True)


def _observe(child, seconds: float) -> None:
    try:
        child.observe(max(0.0, seconds))
    except OSError:
        # A missing or full metrics dir must not fail the work the metric describes.
        log.warning("could not record a metric in %s", multiproc_dir(), exc_info=True)


def multiproc_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def add_live_collectors(registry: CollectorRegistry) -> None:
    """Every process's counters and histograms when they share a dir, else this process's."""
    path = multiproc_dir()
    if path:
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry, path=path)
    else:
        for metric in (*HISTOGRAMS, *COUNTERS):
            registry.register(metric)


def prepare_multiproc_dir() -> str | None:
    """Create the dir and drop files of processes that are gone (a previous start's)."""
    path = multiproc_dir()
    if not path:
        return None
    Path(path).mkdir(parents=True, exist_ok=True)
    for db_file in Path(path).glob("*.db"):
        pid = db_file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            db_file.unlink(missing_ok=True)
    return path


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit: a dead process's histogram files stay, so no count goes back."""
    path = multiproc_dir()
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_worker_metrics(port: int, host: str = "127.0.0.1") -> None:
    """The worker's own /metrics (WORKER_METRICS_PORT): its counters and histograms, from this
    process only (forward attempts and retention's purges are counted in the worker)."""
    path = multiproc_dir()
    if path:  # the worker may start before gunicorn has made the dir
        Path(path).mkdir(parents=True, exist_ok=True)
    if not port:
        return
    registry = CollectorRegistry()
    for metric in (*HISTOGRAMS, *COUNTERS):
        registry.register(metric)
    start_http_server(port, addr=host, registry=registry)
    log.info("worker metrics at http://%s:%d/metrics", host, port)
