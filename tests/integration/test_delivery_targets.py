"""Deliveries are keyed by (event, target): targets that share a URL each get their own
delivery, signed with their own secret; a run's callback_url is signed with FORWARD_SECRET."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.worker.tasks import deliver_one
from tests.integration.helpers import callback_url, run_row, trigger
from tests.support.receiver import Receiver

SECRET_A = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=="
SECRET_B = "whsec_" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQg=="


def verifies_with(record: dict, secret: str) -> bool:
    body = json.dumps(record["body"], separators=(",", ":"), sort_keys=True)
    try:
        Webhook(secret).verify(body, record["headers"])
    except WebhookVerificationError:
        return False
    return True


def test_targets_sharing_a_url_each_get_their_own_signed_delivery(client, services, sandbox):
    shared = Receiver().start()  # records everything, verifies nothing itself
    try:
        for secret in (SECRET_A, SECRET_B):
            made = client.post("/v1/webhooks", json={"url": shared.url, "secret": secret})
            assert made.status_code == 201
        sandbox.knobs(callback_drop=1.0, run_seconds=60)
        run_id = trigger(client, callback_url=shared.url)
        body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
        assert client.post(callback_url(run_id), json=body).status_code == 200
        while deliver_one(services, "test"):
            pass

        got = shared.expect_count(3)
        assert len({r["headers"]["webhook-id"] for r in got}) == 1  # one event
        secrets = (SECRET_A, SECRET_B, SANDBOX_FORWARD_SECRET)
        matches = sorted(sum(verifies_with(r, s) for r in got) for s in secrets)
        assert matches == [1, 1, 1]  # each secret signs exactly one of the three
        views = client.get(f"/v1/runs/{run_id}").get_json()["data"]["deliveries"]
        assert len(views) == 3 and {v["state"] for v in views} == {"delivered"}
    finally:
        shared.close()
