"""Shared steps for integration tests: trigger a run, read its rows, snapshot the store."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import insert, select

from app.runs.tokens import callback_path
from app.store.engine import read, write
from app.store.tables import callbacks, deliveries, delivery_attempts, runs
from tests.support.run_rows import new_run_row
from tests.support.stack import RELAY_SECRET, STORED_ACTION

RUN_URL = f"/actions/v1/stored-actions/{STORED_ACTION}/run"


def trigger(client, **data) -> str:
    response = client.post(RUN_URL, json={"data": {"inputs": {}, **data}})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["data"]["id"]


def run_row(services, run_id: str) -> dict:
    with read(services.engine) as conn:
        return dict(conn.execute(select(runs).where(runs.c.id == run_id)).mappings().one())


def callback_url(run_id: str) -> str:
    return callback_path(RELAY_SECRET, run_id)


def snapshot(services) -> dict:
    """Every row of the tables a callback could touch."""
    with read(services.engine) as conn:
        return {
            table.name: [dict(r) for r in conn.execute(select(table)).mappings()]
            for table in (runs, callbacks, deliveries, delivery_attempts)
        }


def due_polls(services, count: int) -> None:
    """`count` submitted runs whose polls are all due (upstream answers 404: still GETs)."""
    now = time.time()
    rows = [
        new_run_row(
            now=now - 60,
            state="submitted",
            upstream_run_id=str(uuid.uuid4()),
            submitted_at=now - 60,
            next_submit_at=None,
            next_poll_at=now - 30 + i,
        )
        for i in range(count)
    ]
    with write(services.engine) as conn:
        conn.execute(insert(runs), rows)
