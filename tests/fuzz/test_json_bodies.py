"""Hypothesis: arbitrary JSON to the callback and trigger endpoints never produces a 5xx."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.helpers import RUN_URL, callback_url, run_row, trigger

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
result_like = st.fixed_dictionaries(
    {},
    optional={
        "type": json_values,
        "id": json_values,
        "status": st.sampled_from(["success", "error", "waiting", "other"]) | json_values,
        "results": json_values,
        "errors": st.lists(
            st.dictionaries(st.sampled_from(["code", "delay", "meta"]), json_values)
        ),
        "next_page": json_values,
    },
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def test_callback_bodies_never_5xx(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    url = callback_url(run_id)

    @FUZZ
    @given(body=json_values | result_like)
    def check(body):
        response = client.post(url, json=body)
        assert response.status_code < 500, response.get_json()
        assert (response.status_code < 300) or "errors" in response.get_json()

    check()
    assert run_row(services, run_id)["state"] in ("submitted", "waiting", "succeeded", "failed")


def test_trigger_bodies_never_5xx(client, sandbox):
    sandbox.knobs(callback_drop=1.0)
    data_like = st.fixed_dictionaries(
        {},
        optional={
            "inputs": json_values,
            "page": json_values,
            "idempotency_id": json_values,
            "callback_url": json_values,
            "metadata": json_values,
        },
    )

    @FUZZ
    @given(body=json_values | st.fixed_dictionaries({"data": data_like | json_values}))
    def check(body):
        response = client.post(RUN_URL, json=body)
        assert response.status_code in (202, 400, 409), response.get_json()

    check()
