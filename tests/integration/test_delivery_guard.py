"""Delivery-time protections: the SSRF guard, no redirects followed, webhook CRUD validation."""

from app.worker.tasks import deliver_one
from tests.integration.helpers import callback_url, run_row, trigger


def _settled_run(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    upstream = run_row(services, run_id)["upstream_run_id"]
    client.post(callback_url(run_id), json={"id": upstream, "errors": []})
    return run_id


def test_private_target_fails_at_delivery_time_without_a_request(make_app, sandbox, receiver):
    client, services = make_app({"FORWARD_ALLOW_PRIVATE": "false", "FORWARD_URLS": receiver.url})
    run_id = _settled_run(client, services, sandbox)
    assert deliver_one(services, "t")
    attempt = client.get(f"/v1/runs/{run_id}").get_json()["data"]["deliveries"][0]["attempts"][0]
    assert attempt["status"] is None and "InvalidIPAddress" in attempt["error"]
    assert receiver.received == [] and receiver.rejected == []


def test_redirects_are_not_followed(client, services, sandbox, httpserver, receiver):
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": receiver.url}
    )
    hook = client.post("/v1/webhooks", json={"url": httpserver.url_for("/hook")})
    assert hook.status_code == 201
    run_id = _settled_run(client, services, sandbox)
    assert deliver_one(services, "t")
    delivery = client.get(f"/v1/runs/{run_id}").get_json()["data"]["deliveries"][0]
    assert delivery["attempts"][0]["status"] == 302 and delivery["state"] == "pending"
    assert receiver.received == []  # the redirect target never saw the forward


def test_webhook_crud(client):
    bad = client.post("/v1/webhooks", json={"url": "ftp://x", "statuses": ["nope"]})
    assert bad.status_code == 400
    pointers = {e["source"]["pointer"] for e in bad.get_json()["errors"]}
    assert pointers == {"/url", "/statuses/0"}
    created = client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:1/x", "statuses": ["failed"]}
    ).get_json()["data"]
    listed = client.get("/v1/webhooks").get_json()["data"]
    assert [h["id"] for h in listed] == [created["id"]]
    assert listed[0]["secret"].endswith("...")  # shown in full only once
    patched = client.patch(f"/v1/webhooks/{created['id']}", json={"enabled": False})
    assert patched.get_json()["data"]["enabled"] is False
    assert client.delete(f"/v1/webhooks/{created['id']}").status_code == 204
    assert client.get(f"/v1/webhooks/{created['id']}").status_code == 404
