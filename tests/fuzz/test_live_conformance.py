"""schemathesis, as an outsider runs it, against a real gunicorn in live mode with a key.

Every check (`--checks all`: schema-valid data accepted, schema-violating data refused,
statuses, headers and bodies as documented, auth enforced, ...), positive and negative data,
every phase (examples, coverage, fuzzing, stateful). A disagreement between /openapi.json and
what the relay does fails here. Bounded examples per operation keep it to well under a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import API_KEY, Relay

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 20
# Fixed, so a failure reproduces; RELAY_FUZZ_SEED explores other corners.
SEED = int(os.environ.get("RELAY_FUZZ_SEED", "20261130"))


@pytest.fixture
def live_relay(tmp_path, database_url, sandbox):
    # TRUSTED_PROXIES: see tests/fuzz/live_hooks.py (one client address per case).
    relay = Relay.live(tmp_path, database_url, sandbox.base, TRUSTED_PROXIES="1")
    relay.start(workers=0)  # the document is the web process's; no worker needed
    yield relay
    relay.stop()


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_live_relay_does_what_its_document_says(live_relay, tmp_path):
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{live_relay.base}/openapi.json"),
        *("--checks", "all", "--mode", "all"),
        *("--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", str(SEED)),
        *("--header", f"Authorization: Bearer {API_KEY}"),
        *("--generation-database", "none", "--request-timeout", "30", "--no-color"),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.fuzz.live_hooks",
    }
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280, check=False
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-30_000:]
    assert "Tested:" in report  # it did run the operations, not stop at loading the document
