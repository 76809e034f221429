"""One run's log lines, trigger to forward: JSON, tagged with its run id, free of secrets."""

import base64
import io
import json
import logging

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.observability.logs import build_handler
from app.runs.tokens import callback_token
from app.worker.tasks import deliver_one
from tests.conftest import API_KEY, RELAY_SECRET
from tests.integration.helpers import callback_url, run_row, trigger

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"integration-webhook-secret-0001").decode()


def _drive_one_run(client, services, sandbox, receiver, hook_receiver) -> str:
    """A webhook, a trigger, a forged and a real callback, and every forward delivered."""
    created = client.post("/v1/webhooks", json={"url": hook_receiver.url, "secret": WEBHOOK_SECRET})
    assert created.status_code == 201, created.get_json()
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client, callback_url=receiver.url)
    path = callback_url(run_id)
    assert client.post(path[:-6] + "forged", json={}).status_code == 403
    body = {"id": run_row(services, run_id)["upstream_run_id"], "status": "success", "errors": []}
    assert client.post(path, json=body).status_code == 200
    delivered = 0
    while deliver_one(services, "test-worker"):
        delivered += 1
    assert delivered == 2 and len(receiver.received) == len(hook_receiver.received) == 1
    return run_id


def test_a_runs_lines_are_json_carry_its_run_id_and_no_secret(
    client, services, sandbox, receiver, make_receiver, caplog
):
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = build_handler("json", stream)
    logging.getLogger().addHandler(handler)
    hook_receiver = make_receiver(WEBHOOK_SECRET)
    try:
        run_id = _drive_one_run(client, services, sandbox, receiver, hook_receiver)
        logging.getLogger("app").info("after the run")
    finally:
        logging.getLogger().removeHandler(handler)

    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    about_the_run = [r for r in records if r.get("run_id") == run_id]
    assert {r["logger"] for r in about_the_run} >= {
        "app.runs.submission",
        "app.runs.callbacks",
        "app.delivery.attempts",
    }
    # The id rides on the line once, as run_id: a message does not say it again.
    assert not [r["message"] for r in about_the_run if run_id in r["message"]]
    assert records[-1]["message"] == "after the run" and "run_id" not in records[-1]
    secrets = (
        RELAY_SECRET,
        API_KEY,
        SANDBOX_FORWARD_SECRET,
        WEBHOOK_SECRET,
        "test-token",  # ZAPIER_ACCESS_TOKEN
        callback_token(RELAY_SECRET, run_id),
    )
    # caplog holds the records as the code made them, before the handler's safety-net mask.
    for text in (stream.getvalue(), caplog.text):
        assert [secret for secret in secrets if secret in text] == []
