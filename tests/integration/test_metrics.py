"""/metrics: counts from the store, so every web and worker process is included; histograms."""

from prometheus_client.parser import text_string_to_metric_families

from app.worker.tasks import deliver_one
from tests.integration.helpers import callback_url, run_row, trigger


def _samples(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_metrics_count_runs_callbacks_and_upstream_calls(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    before = _samples(client)  # counters live for the whole test process: compare, never assume
    settled, open_run = trigger(client), trigger(client)
    upstream = run_row(services, settled)["upstream_run_id"]
    client.post(callback_url(settled), json={"id": upstream, "errors": []})
    client.post(callback_url(settled), json={"id": upstream, "errors": []})
    samples = _samples(client)

    def added(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return samples.get(key, 0) - before.get(key, 0)

    assert samples[("relay_runs", (("state", "submitted"),))] == 1  # the open one
    assert ("relay_runs", (("state", "succeeded"),)) not in samples  # history is counted
    assert added("relay_runs_settled_total", state="succeeded", source="callback") == 1
    assert added("relay_callbacks_received_total", verdict="settled") == 1
    assert added("relay_callbacks_received_total", verdict="duplicate") == 1
    calls = {"operation": "run_stored_action", "outcome": "accepted"}
    assert added("relay_upstream_calls_total", **calls) == 2
    budget = ("relay_upstream_budget_remaining", (("account", "default"), ("bucket", "run")))
    assert samples[budget] == 198
    assert samples[("relay_oldest_open_run_age_seconds", ())] >= 0
    assert open_run != settled


def test_a_scrape_reads_no_history(client, services, sandbox, monkeypatch):
    """The store part of /metrics reads open work only: settled runs, callbacks, upstream calls
    and attempts are not queried at scrape time, so its cost does not grow with history."""
    from sqlalchemy import event

    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    client.post(callback_url(run_id), json=body)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.lower())

    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        _samples(client)
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)
    assert statements, "the scrape reads the open work from the store"
    for table in ("callbacks", "upstream_calls", "delivery_attempts"):
        assert not any(f"from {table}" in text for text in statements), table
    runs_reads = [text for text in statements if "from runs" in text]
    assert runs_reads and all("runs.state in" in text for text in runs_reads)


def _count(samples: dict, name: str, **labels) -> float:
    return samples.get((f"{name}_count", tuple(sorted(labels.items()))), 0.0)


def test_latency_histograms_count_each_callback_delivery_and_upstream_call(
    client, services, sandbox, receiver
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    before = _samples(client)  # one process counts for every test: compare, never assume zero
    run_id = trigger(client, callback_url=receiver.url)
    upstream = run_row(services, run_id)["upstream_run_id"]
    body = {"id": upstream, "status": "success", "errors": []}
    assert client.post(callback_url(run_id), json=body).status_code == 200
    assert client.post(callback_url(run_id), json=body).status_code == 200
    assert deliver_one(services, "test-worker")
    after = _samples(client)

    def added(name, **labels):
        return _count(after, name, **labels) - _count(before, name, **labels)

    assert added("relay_upstream_request_seconds", operation="run_stored_action") == 1
    assert added("relay_callback_lateness_seconds", verdict="settled") == 1
    assert added("relay_callback_lateness_seconds", verdict="duplicate") == 1
    assert added("relay_delivery_latency_seconds", event="run.succeeded") == 1
    lateness = ("relay_callback_lateness_seconds_bucket", (("le", "+Inf"), ("verdict", "settled")))
    assert after[lateness] == _count(after, "relay_callback_lateness_seconds", verdict="settled")
    assert after[("relay_callback_lateness_seconds_sum", (("verdict", "settled"),))] >= 0


def test_a_failed_forward_is_not_a_delivery(client, services, sandbox, receiver):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client, callback_url=receiver.url)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "status": "success", "errors": []}
    client.post(callback_url(run_id), json=body)
    before = _count(_samples(client), "relay_delivery_latency_seconds", event="run.succeeded")
    receiver.script = [500]
    assert deliver_one(services, "test-worker")
    after = _count(_samples(client), "relay_delivery_latency_seconds", event="run.succeeded")
    assert receiver.received[0]["status"] == 500 and after == before
