"""The operator CLI as an operator runs it: `python -m app.cli ...` against real gunicorn and
worker processes, with a subscriber that fails until it is fixed and then gets everything
again under the same webhook-ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from tests.support.processes import ROOT, free_port, wait_for
from tests.support.receiver import Receiver
from tests.support.stack import API_KEY

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def database_url(tmp_path):
    """The CLI talks HTTP only; one database is enough."""
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def failing():
    box = Receiver(status=500).start()
    yield box
    box.close()


def cli(base: str, *args: str, key: str | None = API_KEY) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
    env["RELAY_URL"] = base
    if key is not None:
        env["RELAY_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def api_deliveries(relay, **filters) -> list[dict]:
    """What the CLI will show, read directly: for waiting without a process per look."""
    answer = requests.get(f"{relay.base}/v1/deliveries", params=filters, headers=AUTH, timeout=10)
    return answer.json()["data"]


def cli_json(base: str, *args: str):
    done = cli(base, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_operator_finds_failed_deliveries_and_replays_them(relay_factory, receiver, failing):
    # Three tries each, and no breaker rest: the failures are final within a second or two.
    relay = relay_factory(FORWARD_RETRY_SCHEDULE="0,0", FORWARD_BREAKER_FAILURES="1000")
    answer = requests.post(
        f"{relay.base}/v1/webhooks", json={"url": failing.url}, headers=AUTH, timeout=10
    )
    webhook_id, secret = answer.json()["data"]["id"], answer.json()["data"]["secret"]
    failing.use_secret(secret)  # every send it gets is signed with the webhook's own secret
    run_ids = [relay.trigger(), relay.trigger()]

    wait_for(lambda: len(api_deliveries(relay, state="failed")) == 2, 60, 0.2)

    failed = cli_json(relay.base, "deliveries", "--state", "failed")["data"]
    assert {d["webhook_id"] for d in failed} == {webhook_id}
    assert {d["run_id"] for d in failed} == set(run_ids)
    assert {d["last_status"] for d in failed} == {500}
    first, second = sorted(failed, key=lambda d: d["created_at"])
    assert receiver.wait_for_count(2)  # the healthy FORWARD_URLS target got both

    webhooks = cli(relay.base, "webhooks")
    assert webhooks.returncode == 0, webhooks.stderr
    row = next(line for line in webhooks.stdout.splitlines() if line.startswith(webhook_id))
    assert "enabled" in row and "(500)" in row and failing.url in row
    assert " 6 " in row  # consecutive failures: three tries of each delivery
    healthy = next(line for line in webhooks.stdout.splitlines() if "env" in line.split())
    assert "(204)" in healthy

    shown = cli(relay.base, "runs", "show", first["run_id"])
    assert shown.returncode == 0, shown.stderr
    assert "Timeline" in shown.stdout and "settled" in shown.stdout
    assert shown.stdout.count("delivery_attempt") == 4  # one to the healthy target, three here
    delivery_row = next(line for line in shown.stdout.splitlines() if line.startswith(first["id"]))
    assert "failed" in delivery_row and "500" in delivery_row

    detail = cli(relay.base, "deliveries", "show", first["id"])
    assert detail.returncode == 0, detail.stderr
    assert first["event_id"] in detail.stdout
    assert detail.stdout.count("HTTP 500") == 3

    # The subscriber is fixed: one delivery by hand, then the rest of its window.
    failing.status = 204
    sent_before = len(failing.received)
    redone = cli(relay.base, "redeliver", first["id"])
    assert redone.returncode == 0, redone.stderr
    assert first["id"] in redone.stdout and first["event_id"] in redone.stdout
    assert failing.wait_for(lambda got: any(r["status"] == 204 for r in got), 30)
    fixed = [r for r in failing.received[sent_before:] if r["status"] == 204]
    assert [r["webhook_id"] for r in fixed] == [first["event_id"]]
    assert [r["webhook_id"] for r in failing.received[:sent_before]].count(first["event_id"]) == 3

    recovered = cli_json(relay.base, "recover", webhook_id, "--since", "1h")
    assert recovered == {"data": {"queued": 1, "more": False}}
    assert failing.wait_for(
        lambda got: (
            [r["webhook_id"] for r in got if r["status"] == 204]
            == [first["event_id"], second["event_id"]]
        ),
        30,
    )
    wait_for(lambda: len(api_deliveries(relay, webhook_id=webhook_id, state="succeeded")) == 2)
    delivered = cli_json(relay.base, "deliveries", "--webhook", webhook_id, "--state", "succeeded")
    assert {d["id"] for d in delivered["data"]} == {first["id"], second["id"]}
    again = cli(relay.base, "recover", webhook_id, "--since", "2h")
    assert again.returncode == 0, again.stderr
    assert "0 failed deliveries queued again" in again.stdout
    assert failing.rejected == []


def test_errors_are_one_line_with_what_to_do(relay_factory):
    relay = relay_factory()

    missing = cli(relay.base, "redeliver", "no-such-delivery")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "relay: not found: delivery no-such-delivery (No such delivery.)\n"

    wrong = cli(relay.base, "webhooks", key="wrong-key-123")
    assert wrong.returncode == 1
    assert "RELAY_API_KEY" in wrong.stderr and "wrong-key-123" not in wrong.stderr + wrong.stdout
    assert len(wrong.stderr.strip().splitlines()) == 1

    nobody = f"http://127.0.0.1:{free_port()}"
    refused = cli(nobody, "runs")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"relay: cannot connect to the relay at {nobody}: connection refused (RELAY_URL or --url)"
    )

    bad_window = cli(relay.base, "recover", "x", "--since", "last tuesday")
    assert bad_window.returncode == 2 and "30m, 2h, 3d" in bad_window.stderr
