"""Invariants after a fault campaign, read from the store and from what subscribers received."""

from __future__ import annotations

import collections
import json

from sqlalchemy import select

from app.runs.states import EVENT_TYPES, FINAL_STATES, RunState
from app.store.engine import read
from app.store.tables import callbacks, deliveries, delivery_attempts, rate_budget, runs

SETTLED_BY_RESULT = {RunState.SUCCEEDED.value, RunState.FAILED.value}
FINAL = {state.value for state in FINAL_STATES}
DELIVERY_STATES = {"pending", "delivered", "failed", "gone"}
VERDICTS = {"settled", "waiting", "duplicate", "stale"}


def snapshot(engine) -> dict[str, list[dict]]:
    with read(engine) as conn:
        return {
            table.name: [dict(row) for row in conn.execute(select(table)).mappings()]
            for table in (runs, callbacks, deliveries, delivery_attempts, rate_budget)
        }


def run_violations(rows: dict) -> list[str]:
    """Every run final or pending with a reason; no half-settled run."""
    bad = []
    for run in rows["runs"]:
        rid, state = run["id"], run["state"]
        if state not in FINAL and not (run["reason"] or "").strip():
            bad.append(f"run {rid}: open ({state}) with no reason")
        if state in SETTLED_BY_RESULT:
            needed = ("result_json", "source", "settled_at", "upstream_run_id")
            missing = [k for k in needed if not run[k]]
            if missing or run["source"] not in ("callback", "poll"):
                bad.append(f"run {rid}: {state} but missing {missing} / source {run['source']}")
            elif json.loads(run["result_json"]).get("status") not in ("success", "error"):
                bad.append(f"run {rid}: {state} with a non-final stored result")
        elif state in FINAL and not (run["settled_at"] and run["reason"]):
            bad.append(f"run {rid}: {state} without settled_at and reason")
        elif state not in FINAL and (run["settled_at"] or run["result_json"] or run["source"]):
            bad.append(f"run {rid}: open ({state}) but carries a settlement")
    return bad


def row_violations(rows: dict) -> list[str]:
    """Children point at existing parents and carry their bodies; one event per run."""
    run_ids = {run["id"] for run in rows["runs"]}
    bad = [
        f"callback {cb['id']}: orphan, unknown verdict or empty body"
        for cb in rows["callbacks"]
        if cb["run_id"] not in run_ids or cb["verdict"] not in VERDICTS or not cb["body"]
    ]
    orphans = {a["delivery_id"] for a in rows["delivery_attempts"]} - {
        d["id"] for d in rows["deliveries"]
    }
    bad += [f"attempt of unknown delivery {orphan}" for orphan in orphans]
    bad += _delivery_violations(rows)
    bad += [
        f"budget {b['bucket']}: used {b['used']} > {b['limit']}"
        for b in rows["rate_budget"]
        if b["used"] > b["limit"]
    ]
    return bad


def _delivery_violations(rows: dict) -> list[str]:
    states = {run["id"]: run["state"] for run in rows["runs"]}
    attempts = collections.Counter(a["delivery_id"] for a in rows["delivery_attempts"])
    events = collections.defaultdict(set)
    bad = []
    for d in rows["deliveries"]:
        did, run_state = d["id"], states.get(d["run_id"])
        events[d["run_id"]].add((d["event_id"], d["event_type"]))
        body = json.loads(d["body"]) if d["body"] else {}
        if run_state not in FINAL:
            bad.append(f"delivery {did}: of a missing or open run ({run_state})")
        elif d["event_type"] != EVENT_TYPES[RunState(run_state)]:
            bad.append(f"delivery {did}: event {d['event_type']} for a {run_state} run")
        if body.get("type") != d["event_type"] or body.get("data", {}).get("run_id") != d["run_id"]:
            bad.append(f"delivery {did}: body does not match its row")
        if d["state"] not in DELIVERY_STATES or d["attempts"] != attempts[did]:
            bad.append(f"delivery {did}: {d['state']}, {d['attempts']} vs {attempts[did]} rows")
        delivered_ok = d["delivered_at"] and 200 <= (d["last_status"] or 0) < 300
        if d["state"] == "delivered" and not delivered_ok:
            bad.append(f"delivery {did}: delivered without delivered_at or a 2xx")
    return bad + [f"run {rid}: several events {ev}" for rid, ev in events.items() if len(ev) > 1]


def forward_violations(rows: dict, receivers: dict, expected_targets) -> list[str]:
    """Every final run reached every matching target, under exactly one webhook-id, verified."""
    bad = []
    by_run = collections.defaultdict(dict)
    for d in rows["deliveries"]:
        by_run[d["run_id"]][d["target_url"]] = d
    seen = collections.defaultdict(lambda: collections.defaultdict(list))
    for url, receiver in receivers.items():
        bad += [f"{url}: signature rejected: {why}" for why in receiver.rejected]
        for got in receiver.received:
            seen[(got["body"]["data"]["run_id"], url)][got["webhook_id"]].append(got["status"])
    for run in rows["runs"]:
        if run["state"] not in FINAL:
            continue
        wanted = expected_targets(run)
        if set(by_run[run["id"]]) != wanted:
            bad.append(
                f"run {run['id']}: deliveries to {set(by_run[run['id']])}, expected {wanted}"
            )
        for url in wanted:
            delivery = by_run[run["id"]].get(url)
            ids = seen[(run["id"], url)]
            if delivery is None or delivery["state"] != "delivered":
                bad.append(f"run {run['id']} -> {url}: delivery {delivery and delivery['state']}")
            elif set(ids) != {delivery["event_id"]}:
                bad.append(f"run {run['id']} -> {url}: webhook-ids {set(ids)}")
            elif not any(200 <= status < 300 for status in ids[delivery["event_id"]]):
                bad.append(f"run {run['id']} -> {url}: never answered 2xx by the receiver")
    return bad
