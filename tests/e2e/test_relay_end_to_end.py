"""Real processes end to end: lossy callbacks, a kill -9 of the worker, every run forwarded once."""

from __future__ import annotations

import collections

import pytest
from sqlalchemy import func, select

from app.runs.tokens import callback_token
from app.store.engine import read
from app.store.tables import callbacks, deliveries, delivery_attempts
from tests.conftest import RELAY_SECRET

pytestmark = pytest.mark.e2e
RUNS = 100


def _figures(relay) -> dict:
    rows = relay.runs()
    with read(relay.engine) as conn:
        callbacks_by_verdict = dict(
            conn.execute(
                select(callbacks.c.verdict, func.count()).group_by(callbacks.c.verdict)
            ).all()
        )
        deliveries_by_state = dict(
            conn.execute(
                select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
            ).all()
        )
        first_attempts = conn.execute(
            select(deliveries.c.run_id, func.min(delivery_attempts.c.attempted_at))
            .join(delivery_attempts, delivery_attempts.c.delivery_id == deliveries.c.id)
            .group_by(deliveries.c.run_id)
        ).all()
    settled = {r["id"]: r["settled_at"] for r in rows}
    lags = sorted(at - settled[run_id] for run_id, at in first_attempts if settled.get(run_id))
    return {
        "forward_lag_p50_ms": round(1000 * lags[len(lags) // 2]) if lags else None,
        "forward_lag_max_ms": round(1000 * lags[-1]) if lags else None,
        "runs": len(rows),
        "states": collections.Counter(r["state"] for r in rows),
        "sources": collections.Counter(r["source"] for r in rows),
        "polls_per_run": sum(r["poll_count"] for r in rows) / max(1, len(rows)),
        "callbacks": callbacks_by_verdict,
        "deliveries": deliveries_by_state,
    }


def test_lossy_callbacks_and_a_killed_worker_lose_nothing(relay_factory, sandbox, receiver):
    sandbox.knobs(
        run_seconds=0.2,
        run_seconds_max=1.5,
        error_rate=0.2,
        callback_drop=0.3,
        callback_duplicate=0.1,
        callback_out_of_order=0.1,
    )
    relay = relay_factory()
    run_ids = [relay.trigger(metadata={"n": n}) for n in range(RUNS // 2)]
    # Kill the worker while it has work in hand, then bring up a fresh one.
    assert receiver.wait_for(lambda got: len(got) >= 10, 60)
    relay.workers[0].kill9()
    run_ids += [relay.trigger(metadata={"n": n}) for n in range(RUNS // 2, RUNS)]
    relay.start_worker()

    def all_forwarded(got):
        return {r["body"]["data"]["run_id"] for r in got} >= set(run_ids)

    assert receiver.wait_for(all_forwarded, 120), _figures(relay)
    figures = _figures(relay)
    print(f"\nend-to-end figures: {figures}, forwards received: {len(receiver.received)}")

    assert receiver.rejected == []  # every signature verified with standardwebhooks
    ids_per_run = collections.defaultdict(set)
    for forward in receiver.received:
        ids_per_run[forward["body"]["data"]["run_id"]].add(forward["webhook_id"])
    assert all(len(ids) == 1 for ids in ids_per_run.values())  # one webhook-id per run and target
    assert figures["runs"] == RUNS
    assert set(figures["states"]) <= {"succeeded", "failed"}
    assert figures["sources"]["poll"] > 0 and figures["sources"]["callback"] > 0
    by_run = {r["body"]["data"]["run_id"]: r["body"] for r in receiver.received}
    for n, run_id in enumerate(run_ids):
        assert by_run[run_id]["data"]["metadata"] == {"n": n}
    assert sandbox.stats()["runs"]["stored_action"] == RUNS  # none created upstream twice
    assert relay.workers[1].stop() == 0  # SIGTERM: a clean stop


def test_signed_sandbox_callbacks_are_verified(relay_factory, sandbox, receiver):
    sandbox.knobs(run_seconds=0.1)
    relay = relay_factory(ZAPIER_CALLBACK_JWKS_URL=f"{sandbox.base}/.well-known/jwks.json")
    run_ids = [relay.trigger() for _ in range(20)]
    assert receiver.wait_for(lambda got: len(got) == 20, 60)
    with read(relay.engine) as conn:
        rows = conn.execute(select(callbacks.c.signature_verified, callbacks.c.verdict)).all()
    assert len(rows) == 20 and all(verified for verified, _ in rows)
    print(f"\nsigned-callback figures: {_figures(relay)}")
    access_log = relay.web.output()
    assert "/callbacks/" in access_log and "[redacted]" in access_log
    for run_id in run_ids:  # the per-run callback token never reaches the log
        assert callback_token(RELAY_SECRET, run_id) not in access_log
    sources = {r["id"]: r["source"] for r in relay.runs()}
    assert all(sources[run_id] == "callback" for run_id in run_ids)
