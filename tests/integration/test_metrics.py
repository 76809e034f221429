"""/metrics: counts from the store, so every web and worker process is included."""

from prometheus_client.parser import text_string_to_metric_families

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
    settled, open_run = trigger(client), trigger(client)
    upstream = run_row(services, settled)["upstream_run_id"]
    client.post(callback_url(settled), json={"id": upstream, "errors": []})
    client.post(callback_url(settled), json={"id": upstream, "errors": []})
    samples = _samples(client)
    assert samples[("relay_runs", (("state", "succeeded"),))] == 1
    assert samples[("relay_runs", (("state", "submitted"),))] == 1
    assert samples[("relay_runs_settled_by_source_total", (("source", "callback"),))] == 1
    assert samples[("relay_callbacks_received_total", (("verdict", "settled"),))] == 1
    assert samples[("relay_callbacks_received_total", (("verdict", "duplicate"),))] == 1
    calls = (("operation", "run_stored_action"), ("outcome", "accepted"))
    assert samples[("relay_upstream_calls_total", calls)] == 2
    assert samples[("relay_upstream_budget_remaining", (("bucket", "run"),))] == 198
    assert samples[("relay_oldest_open_run_age_seconds", ())] >= 0
    assert open_run != settled
