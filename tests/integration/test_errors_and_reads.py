"""Flask's own errors in the one shape; /v1/runs filters and paging; health and readiness."""

import uuid

import pytest

from tests.integration.helpers import callback_url, run_row, trigger


def _shape(response, status):
    body = response.get_json()
    assert response.status_code == status
    entry = body["errors"][0]
    assert set(entry) == {"status", "code", "title", "detail", "source", "meta"}
    assert entry["status"] == status
    return entry


def test_flask_errors_use_the_error_shape(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret detail must not leak")

    _shape(client.get("/no/such/path"), 404)
    entry = _shape(client.delete("/healthz"), 405)
    assert entry["code"] == "method_not_allowed"
    entry = _shape(client.get("/boom-for-test"), 500)
    assert "secret" not in entry["detail"]


def test_body_over_max_is_413(client, sandbox):
    big = b'{"data": {"inputs": {"x": "' + b"y" * (6 * 1024 * 1024) + b'"}}}'
    url = f"/actions/v1/stored-actions/{uuid.uuid4()}/run"
    entry = _shape(client.post(url, data=big, content_type="application/json"), 413)
    assert entry["code"] == "request_entity_too_large"


def test_health_and_readiness(client, database_url):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["mode"] == "live"
    assert database_url.startswith(ready["database"])


def test_runs_list_filters_and_cursor_paging(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    ids = [trigger(client) for _ in range(5)]
    settled = ids[0]
    upstream = run_row(services, settled)["upstream_run_id"]
    client.post(callback_url(settled), json={"id": upstream, "errors": []})

    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/runs{query}").get_json()
        seen += [run["id"] for run in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # newest first, each once
    succeeded = client.get("/v1/runs?status=succeeded").get_json()["data"]
    assert [r["id"] for r in succeeded] == [settled]
    other = client.get(f"/v1/runs?stored_action_id={uuid.uuid4()}").get_json()["data"]
    assert other == []
    future = client.get("/v1/runs?created_after=2999-01-01T00:00:00Z").get_json()["data"]
    assert future == []


@pytest.mark.parametrize(
    "query", ["status=bogus", "limit=0", "limit=x", "created_after=yesterday", "cursor=@@@", "x=1"]
)
def test_bad_list_queries_are_400(client, query):
    entry = _shape(client.get(f"/v1/runs?{query}"), 400)
    assert entry["source"] is not None or entry["code"] == "invalid"


def test_run_detail_timeline(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    upstream = run_row(services, run_id)["upstream_run_id"]
    client.post(callback_url(run_id), json={"id": upstream, "errors": [], "status": "success"})
    detail = client.get(f"/v1/runs/{run_id}").get_json()["data"]
    events = [entry["event"] for entry in detail["timeline"]]
    assert events[0] == "created"
    assert {"run_stored_action", "submitted", "callback", "settled"} <= set(events)
    assert detail["source"] == "callback" and detail["callback_count"] == 1
    assert client.get(f"/v1/runs/{uuid.uuid4()}").status_code == 404


def test_redeliver_needs_a_final_run(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    assert client.post(f"/v1/runs/{run_id}/redeliver").status_code == 409
    assert client.post(f"/v1/runs/{uuid.uuid4()}/redeliver").status_code == 404
