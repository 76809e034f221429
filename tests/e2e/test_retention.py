"""A real worker purges forwarded runs once they are past RETENTION_DAYS, keeps the open one,
and counts what it purged on its /metrics."""

import pytest
import requests

from tests.support.processes import free_port, wait_for
from tests.support.stack import API_KEY

pytestmark = pytest.mark.e2e
WINDOW_DAYS = "0.0001"  # 8.6 s: the worker's maintenance lane looks every second


def _purged_runs(port: int) -> float:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith('relay_purged_rows_total{table="runs"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_worker_purges_forwarded_runs_and_keeps_the_open_one(relay_factory, sandbox, receiver):
    sandbox.knobs(run_seconds=0.1)
    port = free_port()
    relay = relay_factory(RETENTION_DAYS=WINDOW_DAYS, WORKER_METRICS_PORT=str(port))
    done = [relay.trigger() for _ in range(3)]
    assert receiver.wait_for(lambda got: len(got) == 3, 30)
    sandbox.knobs(run_seconds=3600, callback_drop=1.0)
    still_open = relay.trigger()

    wait_for(lambda: {run["id"] for run in relay.runs()} == {still_open}, 40, interval=0.5)
    assert relay.runs()[0]["state"] in ("submitted", "waiting")
    auth = {"Authorization": f"Bearer {API_KEY}"}
    for run_id in done:
        assert (
            requests.get(f"{relay.base}/v1/runs/{run_id}", headers=auth, timeout=10).status_code
            == 404
        )
    assert wait_for(lambda: _purged_runs(port) == 3, 10)
    # The purge is counted as it goes and logged once the pass ends: await the line too.
    assert wait_for(lambda: "retention purged" in relay.workers[0].output(), 10)
