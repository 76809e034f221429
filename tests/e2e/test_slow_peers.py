"""No slow peer stalls the relay: real gunicorn, a real worker, the sandbox, and subscribers
that never answer, answer late or drip their answer, next to a healthy one."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.runs.tokens import callback_path
from tests.support.bad_peers import BlackHole, Dripper, SlowAnswer
from tests.support.processes import wait_for
from tests.support.stack import API_KEY, RELAY_SECRET

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def database_url(tmp_path):
    """The engine's behaviour does not depend on the database; one is enough here."""
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def peers():
    made = []

    def make(peer):
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def subscribe(relay, url: str) -> str:
    answer = requests.post(f"{relay.base}/v1/webhooks", json={"url": url}, headers=AUTH, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]["id"]


def deliveries(relay, run_id: str) -> list[dict]:
    answer = requests.get(f"{relay.base}/v1/runs/{run_id}", headers=AUTH, timeout=10)
    return answer.json()["data"]["deliveries"]


def attempts_to(relay, run_ids: list[str], webhook_id: str) -> int:
    return sum(
        len(d["attempts"])
        for run_id in run_ids
        for d in deliveries(relay, run_id)
        if d["webhook_id"] == webhook_id
    )


def test_dead_and_slow_targets_delay_no_healthy_forward(relay_factory, receiver, peers):
    """Before: 4 worker threads each held by a send to a dead target; the healthy target's
    forwards waited behind them (p50 45 s). Now they all arrive while every send to the bad
    targets is still in flight: none of those has even ended yet."""
    relay = relay_factory(FORWARD_TIMEOUT_SECONDS="25", WORKER_THREADS="4")
    hole, slow, drip = peers(BlackHole()), peers(SlowAnswer([14])), peers(Dripper(2.0))
    bad = {
        name: subscribe(relay, p.url)
        for name, p in (("hole", hole), ("slow", slow), ("drip", drip))
    }
    run_ids = [relay.trigger() for _ in range(12)]

    assert receiver.wait_for_count(12, timeout=20)
    assert {f["body"]["data"]["run_id"] for f in receiver.received} == set(run_ids)
    for webhook_id in bad:
        assert attempts_to(relay, run_ids, webhook_id) == 0
    assert len(hole.sends) == 12  # the dead target's sends are all in flight at once


def test_a_dripping_target_is_cut_at_the_deadline_and_never_sent_twice_at_once(
    relay_factory, peers
):
    """Before: per-read timeouts let a target dripping a byte every 2 s hold the send past its
    lease, and a second POST of the same event went out beside it."""
    relay = relay_factory(FORWARD_TIMEOUT_SECONDS="3", WORKER_LEASE_SECONDS="1")
    drip = peers(Dripper(1.0))
    webhook_id = subscribe(relay, drip.url)
    run_id = relay.trigger()

    def attempted():
        mine = [d for d in deliveries(relay, run_id) if d["webhook_id"] == webhook_id]
        return mine and mine[0]["attempts"] and mine[0]

    delivery = wait_for(attempted, 30)
    assert delivery["attempts"][0]["status"] is None
    assert "TimeoutError" in delivery["attempts"][0]["error"]
    assert drip.max_overlap() == 1


def test_a_redeliver_during_a_send_waits_for_it(relay_factory, peers):
    """Before: five redelivers during a live send made five POSTs, four beside the live one."""
    relay = relay_factory()
    slow = peers(SlowAnswer([4, 0]))
    webhook_id = subscribe(relay, slow.url)
    run_id = relay.trigger()
    assert slow.wait_for(lambda sends: len(sends) == 1, 20)
    for _ in range(5):
        answer = requests.post(f"{relay.base}/v1/runs/{run_id}/redeliver", headers=AUTH, timeout=10)
        assert answer.status_code == 202

    assert slow.wait_for(lambda sends: len(sends) == 2 and sends[1]["ended"], 30)
    assert slow.max_overlap() == 1
    assert len({send["webhook_id"] for send in slow.sends}) == 1
    assert not slow.wait_for(lambda sends: len(sends) > 2, 3)  # five requests folded into one

    def delivered():
        mine = next(d for d in deliveries(relay, run_id) if d["webhook_id"] == webhook_id)
        return mine["state"] == "delivered" and mine

    assert [a["status"] for a in wait_for(delivered, 10)["attempts"]] == [204, 204]


def test_sigterm_hands_an_in_flight_send_back_for_the_next_worker(relay_factory, peers):
    """Before: the worker exited with the send abandoned and its lease held (75 s), so the
    event went again only after the lease lapsed. Now the next worker sends it at once, under
    the same webhook-id, with no attempt counted for the cut one."""
    relay = relay_factory(FORWARD_TIMEOUT_SECONDS="60")
    slow = peers(SlowAnswer([40, 0]))
    webhook_id = subscribe(relay, slow.url)
    run_id = relay.trigger()
    assert slow.wait_for(lambda sends: len(sends) == 1, 20)

    worker = relay.workers[0]
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=20) == 0
    mine = next(d for d in deliveries(relay, run_id) if d["webhook_id"] == webhook_id)
    assert mine["state"] == "pending" and mine["attempts"] == []

    relay.start_worker()
    assert slow.wait_for(lambda sends: len(sends) == 2 and sends[1]["ended"], 20)
    assert slow.sends[0]["webhook_id"] == slow.sends[1]["webhook_id"]


def test_a_hanging_upstream_holds_neither_triggers_nor_forwards(relay_factory, receiver, peers):
    """Before: with upstream hanging, 20 triggers took 30-60 s each, /healthz 26 s, and due
    forwards waited 29 s behind worker threads stuck on upstream."""
    hole = peers(BlackHole())
    base = hole.url.removesuffix("/hook")
    relay = relay_factory(ZAPIER_API_BASE=base, TRIGGER_WAIT_SECONDS="1")

    def post(_):
        return relay.post_run(session=requests.Session())

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
        alive = requests.get(f"{relay.base}/healthz", timeout=5)
    assert [a.status_code for a in answers] == [202] * 20
    assert alive.status_code == 200

    # Upstream called back for one of them (its token proves it): the forward must not wait
    # for the worker's upstream threads, which are all waiting on the hanging upstream.
    run_id = answers[0].json()["data"]["id"]
    body = {"id": "ffffffff-0000-4000-8000-000000000001", "status": "success", "errors": []}
    stored = requests.post(
        f"{relay.base}{callback_path(RELAY_SECRET, run_id)}", json=body, timeout=10
    )
    assert stored.status_code == 200
    assert receiver.wait_for(
        lambda got: any(r["body"]["data"]["run_id"] == run_id for r in got), 10
    )


def test_a_dead_target_holds_only_its_cap_and_delays_no_poll(
    relay_factory, sandbox, receiver, peers
):
    """A target that never answers gets FORWARD_TARGET_MAX_IN_FLIGHT sends at once, no more;
    its other deliveries wait their turn while runs are still polled (every callback lost)
    and forwarded to the healthy target."""
    sandbox.knobs(callback_drop=1.0)
    relay = relay_factory(FORWARD_TIMEOUT_SECONDS="25", FORWARD_TARGET_MAX_IN_FLIGHT="3")
    hole = peers(BlackHole())
    dead = subscribe(relay, hole.url)
    run_ids = [relay.trigger() for _ in range(10)]

    assert receiver.wait_for_count(10, timeout=30)
    settled = [
        requests.get(f"{relay.base}/v1/runs/{run_id}", headers=AUTH, timeout=10).json()["data"]
        for run_id in run_ids
    ]
    assert {run["source"] for run in settled} == {"poll"}
    assert len(hole.sends) == 3  # every one still open: the cap, not the deadline, holds the rest
    assert attempts_to(relay, run_ids, dead) == 0
