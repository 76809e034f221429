"""Fault campaign: a seeded schedule of kill -9s, upstream 429/503 bursts, a subscriber outage
and lost callbacks over ~200 runs on real processes; then every invariant, from store and
subscribers."""

from __future__ import annotations

import base64
import collections
import os
import random
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest
import requests

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.runs.states import FINAL_STATES
from app.runs.tokens import callback_token
from tests.conftest import API_KEY, RELAY_SECRET
from tests.e2e import campaign_invariants as inv
from tests.e2e.campaign import Client, children_of, fault_schedule, kill_gunicorn_worker
from tests.support.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.load]
SEED = int(os.environ.get("RELAY_CAMPAIGN_SEED", "20261122"))
BATCHES, BATCH_SIZE = 20, 10
OUTAGE_ANSWERS = 15  # 503s the subscriber answers before it recovers
BURST_ANSWERS = 3  # upstream faults answered before a burst ends
CALM = {"rate_429_burst": 0.0, "rate_503_burst": 0.0, "callback_drop": 0.2}
HOOK_SECRET = "whsec_" + base64.b64encode(b"campaign-subscriber-secret-0001").decode()
FINAL = {state.value for state in FINAL_STATES}


@pytest.fixture
def subscribers(make_receiver):
    failed_only = make_receiver(HOOK_SECRET)  # a /v1/webhooks target for failed runs only
    per_run = make_receiver(SANDBOX_FORWARD_SECRET)  # the runs' own callback_url
    return failed_only, per_run


def _settled(relay) -> bool:
    rows = inv.snapshot(relay.engine)
    return all(r["state"] in FINAL for r in rows["runs"]) and all(
        d["state"] != "pending" for d in rows["deliveries"]
    )


def _start_fault(fault: str, relay, sandbox, receiver, rng) -> None:
    if fault in ("burst_429", "burst_503"):
        sandbox.knobs(**{f"rate_{fault[-3:]}_burst": 0.5})
    elif fault == "callback_loss":
        sandbox.knobs(callback_drop=0.9)
    elif fault == "outage":
        receiver.outage_from = len(receiver.received)
        receiver.script = [503] * OUTAGE_ANSWERS  # it recovers once these are answered
    elif fault == "kill_worker":
        victim = rng.choice([w for w in relay.workers if w.proc.poll() is None])
        victim.kill9()
        relay.start_worker()


def _answered_ok_since(receiver, index: int) -> bool:
    with receiver.changed:
        return any(record["status"] < 300 for record in receiver.received[index:])


def _end_fault(fault: str, sandbox, receiver) -> None:
    if fault == "outage":
        # Over only once the relay has seen the subscriber back: a 2xx answered after the 503s.
        # Two outages in a row without one would be one long outage, and the breaker (set for
        # one) would rightly rest the subscriber for longer than this wait.
        wait_for(lambda: _answered_ok_since(receiver, receiver.outage_from), 60)
    elif fault in ("burst_429", "burst_503"):
        # The burst lasts until upstream has really answered with it a few times.
        before = sandbox.stats()[f"answered_{fault[-3:]}"]
        wait_for(lambda: sandbox.stats()[f"answered_{fault[-3:]}"] >= before + BURST_ANSWERS, 60)
    sandbox.knobs(**CALM)


def test_fault_campaign_keeps_every_invariant(relay_factory, sandbox, receiver, subscribers):
    failed_only, per_run = subscribers
    started = time.monotonic()
    sandbox.knobs(
        run_seconds=0.2,
        run_seconds_max=1.0,
        error_rate=0.25,
        callback_duplicate=0.1,
        callback_out_of_order=0.1,
        run_limit=100000,
        get_limit=100000,
        **CALM,
    )
    relay = relay_factory(
        WORKER_THREADS="3",
        FORWARD_TIMEOUT_SECONDS="3",
        FORWARD_RETRY_SCHEDULE=",".join(["0"] + ["1"] * (OUTAGE_ANSWERS + 5)),
        # The outage is about retries; the breaker (tested on its own) would stretch it past
        # the test's time by resting the subscriber for longer and longer.
        FORWARD_BREAKER_FAILURES=str(OUTAGE_ANSWERS + 5),
        ZAPIER_RUN_LIMIT="100000",
        ZAPIER_GET_LIMIT="100000",
        LOG_LEVEL="debug",  # the secrets grep below reads every line any process wrote
    )
    relay.start_worker()  # two workers share the queue
    hook = requests.post(
        f"{relay.base}/v1/webhooks",
        json={"url": failed_only.url, "secret": HOOK_SECRET, "statuses": ["failed"]},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    assert hook.status_code == 201, hook.text
    schedule, rng, client = fault_schedule(SEED, BATCHES), random.Random(SEED), Client(relay.base)
    done = collections.Counter()
    run_ids = []
    with ThreadPoolExecutor(4) as pool:
        for batch, fault in enumerate(schedule):
            _start_fault(fault, relay, sandbox, receiver, rng)
            web_victim = rng.choice(sorted(children_of(relay.web.proc.pid)))
            numbers = range(batch * BATCH_SIZE, (batch + 1) * BATCH_SIZE)
            futures = [
                pool.submit(client.trigger, n, per_run.url if n % 3 == 0 else None) for n in numbers
            ]
            if fault == "kill_web":  # with requests in flight
                wait(futures, return_when=FIRST_COMPLETED)
                kill_gunicorn_worker(relay.web.proc.pid, web_victim)
            run_ids += [future.result() for future in futures]
            _end_fault(fault, sandbox, receiver)
            done[fault] += 1
    print(f"\ncampaign seed {SEED}: schedule {schedule}")

    reached = True
    try:
        wait_for(lambda: _settled(relay), 150, interval=0.25)
    except AssertionError:
        reached = False
    rows = inv.snapshot(relay.engine)
    stats = sandbox.stats()
    hook_id = hook.json()["data"]["id"]
    urls = {receiver.url: receiver, failed_only.url: failed_only, per_run.url: per_run}

    def expected_targets(run):
        wanted = {receiver.url}
        if run["state"] in ("failed", "refused"):
            wanted.add(failed_only.url)
        if run["callback_url"]:
            wanted.add(per_run.url)
        return wanted

    violations = inv.run_violations(rows) + inv.row_violations(rows)
    violations += inv.forward_violations(rows, urls, expected_targets)
    figures = {
        "runs": len(rows["runs"]),
        "faults": dict(done),
        "states": collections.Counter(r["state"] for r in rows["runs"]),
        "sources": collections.Counter(r["source"] for r in rows["runs"]),
        "client_connection_errors": client.connection_errors,
        "upstream_answered_429": stats["answered_429"],
        "upstream_answered_503": stats["answered_503"],
        "upstream_callbacks": stats["callbacks"],
        "subscriber_503s": sum(1 for g in receiver.received if g["status"] == 503),
        "deliveries": collections.Counter(d["state"] for d in rows["deliveries"]),
        "delivery_attempts": len(rows["delivery_attempts"]),
        "forwards_received": sum(len(r.received) for r in urls.values()),
        "settled_in_time": reached,
        "seconds": round(time.monotonic() - started, 1),
    }
    print(f"campaign figures: {figures}")
    assert violations == [], violations[:20]
    assert reached, "not every run and delivery settled within the bound"
    assert len(set(run_ids)) == BATCHES * BATCH_SIZE == len(rows["runs"])
    assert stats["runs"]["stored_action"] == len(rows["runs"])  # none created twice upstream
    assert figures["subscriber_503s"] == OUTAGE_ANSWERS * done["outage"]
    assert any(d["webhook_id"] == hook_id for d in rows["deliveries"])
    # Secrets never reach the logs of any process, whatever was killed.
    logs = "".join(child.output() for child in [relay.web, *relay.workers])
    secrets = [API_KEY, RELAY_SECRET, SANDBOX_FORWARD_SECRET, HOOK_SECRET]
    secrets += [callback_token(RELAY_SECRET, run_id) for run_id in run_ids]
    assert [s for s in secrets if s in logs] == []
