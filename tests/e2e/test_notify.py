"""An idle worker is woken the moment a forward is due: NOTIFY on PostgreSQL, a watch on the
database's commits on SQLite."""

import pytest

from tests.e2e.conftest import e2e_relay
from tests.support.processes import wait_for

pytestmark = pytest.mark.e2e


def test_a_worker_idle_for_minutes_forwards_a_result_at_once(
    tmp_path, database_url, sandbox, receiver
):
    sandbox.knobs(run_seconds=0.1)
    # Left to itself the worker would look again only after 10 minutes.
    env = {"WORKER_IDLE_SECONDS": "600"}
    relay = e2e_relay(tmp_path, database_url, sandbox, receiver, env)
    try:
        relay.start()
        worker = relay.workers[0]
        assert wait_for(lambda: "idle workers wake at once" in worker.output(), 30)
        run_id = relay.trigger()
        assert receiver.wait_for(lambda got: len(got) == 1, 30)
        assert receiver.received[0]["body"]["data"]["run_id"] == run_id
        assert receiver.received[0]["body"]["data"]["source"] == "callback"
    finally:
        relay.stop()
