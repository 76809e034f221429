"""Secrets are compared in constant time: callback tokens and API keys go through
hmac.compare_digest, API keys against every configured key, and no secret meets `==`."""

from __future__ import annotations

import ast
import hmac
import re
from pathlib import Path

import pytest

from tests.integration.helpers import callback_url, run_row, trigger

APP = Path(__file__).resolve().parents[2] / "app"
SENSITIVE = re.compile(r"token|secret|api_key|signature|digest|password", re.IGNORECASE)
# Reviewed: the start-up sync of FORWARD_URLS compares the configured secret with the stored
# one to decide whether to rewrite it; no request can reach it or time it.
# Counting the dots of a token tells whether it is shaped like a JWT, not what it holds.
REVIEWED = {
    ("store/webhooks_repo.py", "existing[url]['secret'] != secret"),
    ("upstream/account_limits.py", "token.count('.') != 2"),
}


def _builds_sql(node: ast.Compare) -> bool:
    """`table.c.column == value` makes a WHERE clause for the database, compares nothing here
    (the sandbox keys its rate windows by token; accounts are looked up by fingerprint)."""
    return ".c." in ast.unparse(node.left)


@pytest.fixture
def compared(monkeypatch) -> list[tuple[bytes, bytes]]:
    """Every call of hmac.compare_digest, recorded and then answered by the real function."""
    calls = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    return calls


def test_callback_tokens_are_compared_with_compare_digest(client, services, sandbox, compared):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    genuine = callback_url(run_id)
    forged = genuine[:-4] + "AAAA"
    compared.clear()
    assert client.post(forged, json={"errors": []}).status_code == 403
    assert [b for _, b in compared] == [forged.rsplit("/", 1)[1].encode()]
    compared.clear()
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert client.post(genuine, json=body).status_code == 200
    assert len(compared) == 1 and compared[0][0] == compared[0][1]


@pytest.mark.parametrize("presented", ["first-key-0123456789", "second-key-987654321", "nope"])
def test_api_keys_are_each_compared_with_compare_digest(make_app, sandbox, compared, presented):
    """Every configured key is compared, whichever matches: the time says nothing about which."""
    client, _ = make_app({"RELAY_API_KEYS": "first-key-0123456789,second-key-987654321"})
    compared.clear()
    response = client.get("/v1/runs", headers={"Authorization": f"Bearer {presented}"})
    assert response.status_code == (401 if presented == "nope" else 200)
    assert [a for a, _ in compared] == [presented.encode()] * 2
    assert {b for _, b in compared} == {b"first-key-0123456789", b"second-key-987654321"}


def test_no_secret_is_compared_with_equality_operators():
    """A reviewer's grep, kept honest: `==`/`!=` on anything named like a secret is flagged."""
    found = set()
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            if _builds_sql(node):
                continue
            operands = [node.left, *node.comparators]
            named = {
                getattr(n, "id", None) or getattr(n, "attr", None) or getattr(n, "value", None)
                for side in operands
                for n in ast.walk(side)
                if isinstance(n, ast.Name | ast.Attribute | ast.Constant)
            }
            if any(isinstance(name, str) and SENSITIVE.search(name) for name in named):
                found.add((str(path.relative_to(APP)), ast.unparse(node)))
    assert found - REVIEWED == set()
