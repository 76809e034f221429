"""The callback receiver: 2xx only once stored; forged, malformed, oversized or mismatched is a
4xx that changes nothing."""

import uuid

import pytest

from tests.integration.helpers import callback_url, run_row, snapshot, trigger


@pytest.fixture
def run(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client, callback_url="http://127.0.0.1:9/hook")
    return run_row(services, run_id)


def _result(run, **overrides):
    return {
        "type": "run",
        "id": run["upstream_run_id"],
        "status": "success",
        "results": [{"ok": 1}],
        "errors": [],
        **overrides,
    }


def test_valid_callback_settles_the_run_and_queues_the_forward(client, services, run):
    body = _result(run, extra_field={"kept": True})
    response = client.post(callback_url(run["id"]), json=body)
    assert response.status_code == 200
    assert response.get_json()["data"]["verdict"] == "settled"
    stored = run_row(services, run["id"])
    assert stored["state"] == "succeeded" and stored["source"] == "callback"
    rows = snapshot(services)
    assert len(rows["deliveries"]) == 1 and rows["deliveries"][0]["event_type"] == "run.succeeded"
    answer = client.get(f"/actions/v1/stored-actions/{run['stored_action_id']}/runs/{run['id']}")
    assert answer.status_code == 200
    assert answer.get_json()["id"] == run["id"]  # the relay's id, not upstream's
    assert answer.get_json()["extra_field"] == {"kept": True}  # unknown fields kept


def test_duplicate_and_stale_callbacks_change_nothing(client, services, run):
    assert client.post(callback_url(run["id"]), json=_result(run)).status_code == 200
    before = snapshot(services)["deliveries"]
    duplicate = client.post(callback_url(run["id"]), json=_result(run))
    stale = client.post(callback_url(run["id"]), json=_result(run, status="waiting"))
    late_error = client.post(callback_url(run["id"]), json=_result(run, status="error"))
    verdicts = [r.get_json()["data"]["verdict"] for r in (duplicate, stale, late_error)]
    assert verdicts == ["duplicate", "stale", "stale"]
    assert run_row(services, run["id"])["state"] == "succeeded"
    assert snapshot(services)["deliveries"] == before


def test_waiting_then_final(client, services, run):
    first = client.post(callback_url(run["id"]), json=_result(run, status="waiting"))
    assert first.get_json()["data"]["verdict"] == "waiting"
    assert run_row(services, run["id"])["state"] == "waiting"
    final = client.post(callback_url(run["id"]), json=_result(run, status="error"))
    assert final.get_json()["data"]["verdict"] == "settled"
    assert run_row(services, run["id"])["state"] == "failed"


@pytest.mark.parametrize(
    ("make_url", "body", "status"),
    [
        (lambda r: callback_url(r["id"])[:-2] + "xx", None, 403),  # forged token
        (lambda r: f"/callbacks/{r['id']}/short", None, 403),
        # this run's id with another run's (valid) token
        (
            lambda r: f"/callbacks/{r['id']}/" + callback_url(str(uuid.uuid4())).rsplit("/", 1)[1],
            None,
            403,
        ),
        (lambda r: callback_url(r["id"]), b"not json", 400),
        (lambda r: callback_url(r["id"]), b"[]", 400),
        (lambda r: callback_url(r["id"]), b'{"status": "success"}', 400),  # errors is required
        (lambda r: callback_url(r["id"]), b'{"errors": [], "status": "done"}', 400),
        (lambda r: callback_url(r["id"]), b'{"errors": [{"code": "nope"}]}', 400),
        (lambda r: callback_url(r["id"]), b'{"errors": [], "id": "not-a-uuid"}', 400),
        (lambda r: callback_url(r["id"]), b"\xff\xfe\x00", 400),
        (
            lambda r: callback_url(r["id"]),
            b'{"errors": [], "id": "%s"}' % str(uuid.uuid4()).encode(),
            409,
        ),
    ],
)
def test_bad_callbacks_are_4xx_and_change_nothing(client, services, run, make_url, body, status):
    if body is None:
        body = b'{"errors": [], "status": "success"}'
    before = snapshot(services)
    response = client.post(make_url(run), data=body, content_type="application/json")
    assert response.status_code == status
    assert response.get_json()["errors"][0]["status"] == status
    assert snapshot(services) == before


def test_unknown_run_with_valid_token_is_404(client, services, sandbox):
    ghost = str(uuid.uuid4())
    response = client.post(callback_url(ghost), json={"errors": []})
    assert response.status_code == 404


def test_oversized_callback_is_413_and_changes_nothing(make_app, sandbox):
    client, services = make_app({"MAX_BODY_BYTES": "2048"})
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    before = snapshot(services)
    big = b'{"errors": [], "results": [{"x": "' + b"y" * 4096 + b'"}]}'
    response = client.post(callback_url(run_id), data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["status"] == 413
    assert snapshot(services) == before
