"""gunicorn's access log never shows a callback token, however the path is spelled."""

from __future__ import annotations

import http.client

import pytest

from app.runs.tokens import callback_token
from tests.support.processes import wait_for
from tests.support.stack import RELAY_SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'relay.db'}"


SPELLINGS = (
    "/callbacks/{run}/{token}",
    "/callbacks/{run}%2F{token}",
    "/callbacks%2F{run}%2F{token}",
    "/%63allbacks/{run}/{token}",
    "/callbacks/{run}/{token}/extra",
    "//callbacks/{run}/{token}",
)


def raw_post(port: int, path: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    try:
        conn.request("POST", path, body=b'{"errors": []}', headers=headers)
        conn.getresponse().read()
    finally:
        conn.close()


def test_no_spelling_of_a_callback_path_leaks_its_token(relay_factory):
    """Before: a regex over the raw path, which `%63allbacks` or `%2F` slipped past."""
    relay = relay_factory()
    run_id = "00000000-0000-4000-8000-00000000abcd"
    token = callback_token(RELAY_SECRET, run_id)
    for index, spelling in enumerate(SPELLINGS):
        raw_post(relay.port, spelling.format(run=run_id, token=token) + f"?probe={index}")

    def logged(index: int):
        lines = relay.web.output().splitlines()
        return next((ln for ln in lines if f"probe={index}" in ln), None)

    lines = [wait_for(lambda i=i: logged(i), 10) for i in range(len(SPELLINGS))]
    assert all("[redacted]" in line for line in lines)
    assert token not in relay.web.output()
