"""Real processes for the other two APIs: v2 action runs with lossy callbacks, and a Zap Runs
watcher whose worker is killed mid-paging."""

from __future__ import annotations

import collections

import pytest
import requests
from sqlalchemy import select

from app.store.engine import read
from app.store.tables import zap_watches
from tests.conftest import API_KEY
from tests.support.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.load]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_v2_runs_with_lossy_signed_callbacks_are_all_forwarded_once(
    relay_factory, sandbox, receiver
):
    sandbox.knobs(v2_callbacks=True, run_seconds=0.2, run_seconds_max=1.0, callback_drop=0.3)
    relay = relay_factory(
        V2_CALLBACKS="true", ZAPIER_CALLBACK_JWKS_URL=f"{sandbox.base}/.well-known/jwks.json"
    )
    body = {"data": {"action": "core:Vn7xbE60", "authentication": None, "inputs": {"n": 1}}}
    run_ids = []
    for _ in range(40):
        answer = requests.post(f"{relay.base}/v2/action-runs", json=body, headers=AUTH, timeout=30)
        assert answer.status_code == 200, answer.text
        run_ids.append(answer.json()["data"]["id"])

    def all_forwarded(got):
        return {r["body"]["data"]["run_id"] for r in got} >= set(run_ids)

    assert receiver.wait_for(all_forwarded, 120)
    rows = relay.runs()
    sources = collections.Counter(r["source"] for r in rows)
    ids_per_run = collections.defaultdict(set)
    for forward in receiver.received:
        ids_per_run[forward["body"]["data"]["run_id"]].add(forward["webhook_id"])
    print(f"\nv2 figures: runs {len(rows)}, sources {dict(sources)}")
    assert all(len(ids) == 1 for ids in ids_per_run.values())
    assert sources["callback"] > 0 and sources["poll"] > 0  # the dropped ones were polled
    assert {r["body"]["data"]["kind"] for r in receiver.received} == {"action_run"}
    assert sandbox.stats()["runs"]["action_run"] == 40
    answer = requests.get(f"{relay.base}/v2/action-runs/{run_ids[0]}", headers=AUTH, timeout=10)
    assert answer.json()["data"]["status"] == "success"


def _watch(relay, watch_id):
    with read(relay.engine) as conn:
        return conn.execute(select(zap_watches).where(zap_watches.c.id == watch_id)).one()


def test_zap_watcher_killed_mid_paging_misses_nothing_and_sends_nothing_twice(
    relay_factory, sandbox, receiver
):
    # One page per second: the kill lands while the scan is part-way through its pages.
    sandbox.knobs(get_limit=1, window_seconds=1)
    first = requests.post(f"{sandbox.base}/_admin/zap-runs", json={"count": 700}, timeout=30)
    assert first.status_code == 201
    relay = relay_factory(
        ZAPIER_GET_LIMIT="1", ZAPIER_RATE_WINDOW_SECONDS="1", ZAP_WATCH_INTERVAL_SECONDS="1"
    )
    watch = requests.post(
        f"{relay.base}/v1/zap-watches", json={"from_date": "2020-01-01T00:00:00Z"}, headers=AUTH
    ).json()["data"]
    assert wait_for(lambda: (_watch(relay, watch["id"]).scan_offset or 0) >= 200, 60)
    relay.workers[0].kill9()
    late = requests.post(
        f"{sandbox.base}/_admin/zap-runs", json={"count": 50, "status": "error"}, timeout=30
    )
    relay.start_worker()
    expected = {r["id"] for r in first.json()["data"] + late.json()["data"]}

    def everything(got):
        return {r["body"]["data"]["zap_run"]["id"] for r in got} >= expected

    assert receiver.wait_for(everything, 120), len(receiver.received)
    ids_per_event = collections.defaultdict(set)
    for forward in receiver.received:
        event = forward["body"]
        ids_per_event[(event["data"]["zap_run"]["id"], event["type"])].add(forward["webhook_id"])
    view = requests.get(f"{relay.base}/v1/zap-watches/{watch['id']}", headers=AUTH).json()
    print(
        f"\nzap watcher figures: runs {len(expected)}, events {len(ids_per_event)}, "
        f"forwards received {len(receiver.received)}, watch {view['data']}"
    )
    assert len(ids_per_event) == 750  # each run once, at the status it had
    assert all(len(ids) == 1 for ids in ids_per_event.values())
    assert receiver.rejected == []
    stats = sandbox.stats()
    assert stats["rate"]["get"]["answered_429"] == 0
    stored = requests.get(f"{relay.base}/v1/zap-runs?statuses=error", headers=AUTH).json()
    assert stored["meta"]["count"] == 50
