"""Zap Runs watches against the sandbox: paging, dedupe, status changes, the stored view."""

from __future__ import annotations

import collections
import time
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select, update

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.store.engine import read, write
from app.store.tables import zap_run_events, zap_runs, zap_watches
from app.worker.tasks import deliver_one, watch_one


@pytest.fixture
def target(client, receiver):
    """A catch-all subscription at the verifying receiver."""
    body = {"url": receiver.url, "secret": SANDBOX_FORWARD_SECRET}
    assert client.post("/v1/webhooks", json=body).status_code == 201
    return receiver


def add_zap_runs(sandbox, **spec) -> list[dict]:
    answer = requests.post(f"{sandbox.base}/_admin/zap-runs", json=spec, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def make_watch(client, **body) -> dict:
    body.setdefault("from_date", "2020-01-01T00:00:00Z")
    answer = client.post("/v1/zap-watches", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["data"]


def scan(services, watch_id: str) -> int:
    """Run the watch until its scan is over; returns how many pages it took."""
    pages = 0
    while True:
        with write(services.engine) as conn:  # due now, whatever the interval says
            conn.execute(
                update(zap_watches).where(zap_watches.c.id == watch_id).values(next_poll_at=0)
            )
        assert watch_one(services, "t")
        pages += 1
        with read(services.engine) as conn:
            row = conn.execute(select(zap_watches).where(zap_watches.c.id == watch_id)).one()
        if row.scan_offset is None:
            return pages


def deliver_all(services) -> int:
    count = 0
    while deliver_one(services, "t"):
        count += 1
    return count


def events(services) -> list[tuple[str, str]]:
    with read(services.engine) as conn:
        rows = conn.execute(select(zap_run_events.c.zap_run_id, zap_run_events.c.status)).all()
    return [tuple(row) for row in rows]


def test_a_scan_pages_through_everything_and_forwards_each_run_once(
    client, services, sandbox, target
):
    created = add_zap_runs(sandbox, count=250, status="success", zap_title="Nightly sync")
    watch = make_watch(client)
    assert scan(services, watch["id"]) == 3  # 100 + 100 + 50, the last without links.next
    assert deliver_all(services) == 250
    got = [r["body"] for r in target.received]
    assert {b["data"]["zap_run"]["id"] for b in got} == {r["id"] for r in created}
    assert {b["type"] for b in got} == {"zap_run.success"}
    assert len({r["webhook_id"] for r in target.received}) == 250
    assert target.rejected == []
    first = got[0]["data"]
    assert first["watch_id"] == watch["id"] and first["previous_status"] is None
    assert first["zap_run"]["zap_title"] == "Nightly sync"
    # A second scan finds the same runs (the mark keeps a late-arrival overlap): nothing new.
    scan(services, watch["id"])
    assert deliver_all(services) == 0 and len(events(services)) == 250
    view = client.get(f"/v1/zap-watches/{watch['id']}").get_json()["data"]
    assert view["runs_seen"] == 250 and view["scanning"] is False and view["last_error"] is None


def test_a_status_change_is_forwarded_once_and_a_repeat_never(client, services, sandbox, target):
    pending = add_zap_runs(sandbox, count=2, status="pending")
    watch = make_watch(client)
    scan(services, watch["id"])
    requests.patch(
        f"{sandbox.base}/_admin/zap-runs/{pending[0]['id']}", json={"status": "success"}, timeout=5
    ).raise_for_status()
    scan(services, watch["id"])
    scan(services, watch["id"])
    deliver_all(services)
    types = collections.Counter(r["body"]["type"] for r in target.received)
    assert types == {"zap_run.pending": 2, "zap_run.success": 1}
    changed = [r["body"] for r in target.received if r["body"]["type"] == "zap_run.success"]
    assert changed[0]["data"]["previous_status"] == "pending"
    assert changed[0]["data"]["zap_run"]["end_time"] is not None


def test_a_zap_run_event_is_a_delivery_listed_and_redelivered_like_a_runs(
    client, services, sandbox, target
):
    [created] = add_zap_runs(sandbox, count=1, status="success")
    scan(services, make_watch(client)["id"])
    assert deliver_all(services) == 1
    listed = client.get("/v1/deliveries", query_string={"event_type": "zap_run.success"})
    [delivery] = listed.get_json()["data"]
    assert delivery["state"] == "delivered" and delivery["run_id"] is None

    assert client.post(f"/v1/deliveries/{delivery['id']}/redeliver").status_code == 202
    assert deliver_all(services) == 1
    first, again = target.received
    assert again["webhook_id"] == first["webhook_id"] == delivery["event_id"]
    assert again["body"]["data"]["zap_run"]["id"] == created["id"]


def test_runs_arriving_mid_scan_are_neither_missed_nor_sent_twice(
    client, services, sandbox, target
):
    add_zap_runs(sandbox, count=150, status="success")
    watch = make_watch(client)
    assert watch_one(services, "t")  # first page only: the scan is now at offset 100
    late = add_zap_runs(sandbox, count=30, status="error")  # newest first: shifts every offset
    scan(services, watch["id"])
    scan(services, watch["id"])  # the next scan starts at the mark and picks up the late ones
    deliver_all(services)
    per_status = collections.Counter(status for _, status in events(services))
    assert per_status == {"success": 150, "error": 30}
    ids = [r["body"]["data"]["zap_run"]["id"] for r in target.received]
    assert len(ids) == len(set(ids)) == 180
    assert {r["id"] for r in late} <= set(ids)


def test_filters_are_sent_upstream_and_named_targets_only(client, services, sandbox, receiver):
    other = client.post(
        "/v1/webhooks",
        json={"url": receiver.url, "secret": SANDBOX_FORWARD_SECRET, "statuses": ["failed"]},
    ).get_json()["data"]
    add_zap_runs(sandbox, count=3, status="error", zap_id=7001, zap_title="Alpha")
    add_zap_runs(sandbox, count=2, status="success", zap_id=7001, zap_title="Alpha")
    add_zap_runs(sandbox, count=4, status="error", zap_id=7002, zap_title="Beta")
    watch = make_watch(client, zap_id=7001, statuses=["error"], webhook_ids=[other["id"]])
    scan(services, watch["id"])
    assert deliver_all(services) == 3
    assert {r["body"]["data"]["zap_run"]["zap_id"] for r in receiver.received} == {7001}
    assert {r["body"]["type"] for r in receiver.received} == {"zap_run.error"}


def test_upstream_throttling_keeps_the_scan_and_honours_retry_after(client, services, sandbox):
    add_zap_runs(sandbox, count=5)
    watch = make_watch(client)
    sandbox.knobs(rate_429_burst=1.0)
    before = time.time()
    assert watch_one(services, "t")
    with read(services.engine) as conn:
        row = conn.execute(select(zap_watches).where(zap_watches.c.id == watch["id"])).one()
    assert row.last_error and row.next_poll_at >= before + 1  # Retry-After: 1
    assert row.scan_offset == 0  # the scan stays where it was
    sandbox.knobs(rate_429_burst=0.0)
    scan(services, watch["id"])
    assert len(events(services)) == 5


def test_stored_zap_runs_view_has_the_seed_filters_and_paging(client, services, sandbox):
    add_zap_runs(sandbox, count=12, status="success", zap_title="Invoice sync", zap_id=11)
    add_zap_runs(sandbox, count=3, status="error", zap_title="Lead import", zap_id=12)
    scan(services, make_watch(client)["id"])
    page = client.get("/v1/zap-runs?limit=10").get_json()
    assert page["meta"] == {"count": 15, "limit": 10, "offset": 0}
    assert len(page["data"]) == 10 and page["links"]["prev"] is None
    link = urlsplit(page["links"]["next"])
    assert link.path == "/v1/zap-runs"
    rest = client.get(f"{link.path}?{link.query}")
    assert rest.status_code == 200 and len(rest.get_json()["data"]) == 5
    assert rest.get_json()["links"]["next"] is None
    errors = client.get("/v1/zap-runs?statuses=error,halted").get_json()
    assert errors["meta"]["count"] == 3
    assert {r["zap_id"] for r in errors["data"]} == {12}
    assert client.get("/v1/zap-runs?search=invoice").get_json()["meta"]["count"] == 12
    assert client.get("/v1/zap-runs?zap_id=12").get_json()["meta"]["count"] == 3
    bad = client.get("/v1/zap-runs?statuses=success,bogus")
    assert bad.status_code == 400
    assert bad.get_json()["errors"][0]["source"] == {"parameter": "statuses"}
    assert client.get("/v1/zap-runs?limit=0").status_code == 400
    assert client.get("/v1/zap-runs?from_date=yesterday").status_code == 400
    with read(services.engine) as conn:
        assert len(conn.execute(select(zap_runs)).all()) == 15


def test_watch_api_validates_and_refuses_unknown_webhooks(client):
    assert client.post("/v1/zap-watches", json={"statuses": ["nope"]}).status_code == 400
    unknown = client.post("/v1/zap-watches", json={"webhook_ids": ["missing"]})
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"][0]["source"]["pointer"] == "/webhook_ids/0"
    assert client.post("/v1/zap-watches", json={"search": "x" * 151}).status_code == 400
    watch = make_watch(client, search="invoice")
    off = client.patch(f"/v1/zap-watches/{watch['id']}", json={"enabled": False})
    assert off.get_json()["data"]["enabled"] is False
    assert client.delete(f"/v1/zap-watches/{watch['id']}").status_code == 204
    assert client.get(f"/v1/zap-watches/{watch['id']}").status_code == 404
    assert client.get("/v1/zap-watches").get_json() == {"data": []}
