"""Two gunicorn processes and a worker share histograms: any scrape counts every event."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app.runs.tokens import callback_path
from tests.conftest import RELAY_SECRET
from tests.support.processes import free_port, wait_for, wait_until_up

pytestmark = pytest.mark.e2e
BATCH = 12
MAX_BATCHES = 6  # until both web processes have handled callbacks; in practice the first does


def _count(url: str, name: str) -> float:
    text = requests.get(url, timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == f"{name}_count"
    )


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _callback_processes(relay, run_ids: set[str]) -> set[int]:
    """Which gunicorn processes stored these callbacks, read from their JSON log lines."""
    return {
        line["process"]
        for line in _json_lines(relay.web.output())
        if line["logger"] == "app.runs.callbacks" and line.get("run_id") in run_ids
    }


def _send_callbacks(relay, count: int) -> list[str]:
    """Trigger `count` runs and post each one's callback, 8 at a time, on fresh connections."""
    run_ids = [relay.trigger() for _ in range(count)]
    upstream = {run["id"]: run["upstream_run_id"] for run in relay.runs()}

    def post(run_id: str) -> int:
        body = {"id": upstream[run_id], "status": "success", "errors": []}
        url = relay.base + callback_path(RELAY_SECRET, run_id)
        return requests.post(url, json=body, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, run_ids)) == [200] * count
    return run_ids


def test_every_scrape_counts_every_process_and_the_worker(
    relay_factory, sandbox, receiver, tmp_path
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)  # the test sends the callbacks itself
    worker_port = free_port()
    relay = relay_factory(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        WORKER_METRICS_PORT=str(worker_port),
        CALLBACK_GRACE_SECONDS="600",
    )
    run_ids: list[str] = []
    while len(_callback_processes(relay, set(run_ids))) < 2:
        assert len(run_ids) < BATCH * MAX_BATCHES, "one gunicorn process took every callback"
        run_ids += _send_callbacks(relay, BATCH)
    sent = len(run_ids)

    # Each process alone holds fewer than `sent`: a full count on every scrape is the merge.
    metrics = f"{relay.base}/metrics"
    for _ in range(8):
        assert _count(metrics, "relay_callback_lateness_seconds") == sent
        assert _count(metrics, "relay_upstream_request_seconds") == sent  # the triggers' POSTs

    # The worker forwards each settled run; its histogram shows on its own port and, through
    # the shared dir, on the web's /metrics.
    assert receiver.wait_for(lambda got: len(got) == sent, 60)
    worker_metrics = f"http://127.0.0.1:{worker_port}/metrics"
    wait_until_up(worker_metrics, proc=relay.workers[0].proc)
    wait_for(lambda: _count(worker_metrics, "relay_delivery_latency_seconds") == sent, 20)
    for _ in range(4):
        assert _count(metrics, "relay_delivery_latency_seconds") == sent

    # Every line both kinds of process wrote is JSON; a forward's line names its run.
    assert _json_lines(relay.web.output())
    deliveries = [
        line
        for line in _json_lines(relay.workers[0].output())
        if line["logger"] == "app.delivery.attempts"
    ]
    assert {line["run_id"] for line in deliveries} == set(run_ids)
