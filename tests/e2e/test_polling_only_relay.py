"""A live relay behind http://127.0.0.1 with CALLBACKS unset: polls only, says so, settles runs."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import e2e_relay

pytestmark = pytest.mark.e2e
GRACE = "600"  # no run here may wait it out
BANNER_LINE = "callbacks  off (auto: PUBLIC_BASE_URL is not public https): polling only"


def test_auto_behind_a_loopback_url_settles_runs_by_polling(
    tmp_path, database_url, sandbox, receiver
):
    sandbox.knobs(run_seconds=0.2, run_seconds_max=1.0)
    relay = e2e_relay(tmp_path, database_url, sandbox, receiver, {"CALLBACK_GRACE_SECONDS": GRACE})
    # CALLBACKS unset: auto, and PUBLIC_BASE_URL is http://127.0.0.1:<port>.
    relay.env.pop("CALLBACKS", None)
    try:
        relay.start()
        assert BANNER_LINE in relay.web.output()
        ready = requests.get(f"{relay.base}/readyz", timeout=10).json()
        assert ready["callbacks"] == {
            "state": "off",
            "reason": "auto: PUBLIC_BASE_URL is not public https",
        }
        run_ids = [relay.trigger() for _ in range(5)]
        assert receiver.wait_for(lambda got: len(got) >= len(run_ids), 60), relay.runs()
        rows = {row["id"]: row for row in relay.runs()}
        assert {rows[run_id]["source"] for run_id in run_ids} == {"poll"}
        assert all(rows[i]["settled_at"] - rows[i]["created_at"] < 60 for i in run_ids)
        assert sandbox.stats()["callbacks"]["attempts"] == 0  # no run POST had a callback_url
    finally:
        relay.stop()
