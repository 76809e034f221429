"""/metrics labels the upstream budget by account; METRICS_ACCOUNT_LABELS=false sums it."""

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.helpers import trigger
from tests.support.accounts import TEST_KEY, store_account

NAME = "relay_upstream_budget_remaining"


def budget_samples(client) -> dict:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == NAME
    }


def test_each_account_has_its_own_series(make_app, sandbox):
    client, services = make_app({"RELAY_ENCRYPTION_KEYS": TEST_KEY})
    store_account(services.engine, "acme", "acme-token-0001", overrides={"run": 5})
    store_account(services.engine, "idle", "idle-token-0001")
    trigger(client, account="acme")
    trigger(client, account="acme")
    trigger(client)

    samples = budget_samples(client)

    assert samples[(("account", "acme"), ("bucket", "run"))] == 3
    assert samples[(("account", "default"), ("bucket", "run"))] == 199
    assert samples[(("account", "idle"), ("bucket", "run"))] == 200
    assert samples[(("account", "idle"), ("bucket", "get"))] == 600
    assert len(samples) == 6


def test_account_labels_can_be_turned_off(make_app, sandbox):
    client, services = make_app(
        {"RELAY_ENCRYPTION_KEYS": TEST_KEY, "METRICS_ACCOUNT_LABELS": "false"}
    )
    store_account(services.engine, "acme", "acme-token-0001", overrides={"run": 5})
    trigger(client, account="acme")

    assert budget_samples(client) == {(("bucket", "get"),): 1200, (("bucket", "run"),): 204}
