"""Many accounts at scale on one PostgreSQL: 50 accounts x 20 runs through 2 web instances and 2
workers, callbacks partly dropped. Each token keeps its own budget (the sandbox counts per
token and answers 429 past it), every run is forwarded once naming its account, and no token
shows up in any log, answer or database column."""

from __future__ import annotations

import collections
import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.accounts.crypto import fingerprint
from app.store.engine import read
from app.store.tables import metadata
from tests.e2e.conftest import e2e_relay
from tests.support.accounts import TEST_KEY, claims_token
from tests.support.stack import API_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.load]
ACCOUNTS, RUNS_EACH = 50, 20
WINDOW = 5  # small windows, so each account's runs span several of them
RUN_LIMIT, GET_LIMIT = 3, 5  # the defaults, for tokens that carry no claims
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def account_plan() -> dict[str, dict]:
    """Four kinds of account, each limited its own way (relay and sandbox read them apart),
    with limits small enough that a burst of 20 runs spans several windows."""
    plan = {}
    for n in range(ACCOUNTS):
        name = f"acct-{n:02d}"
        match n % 5:
            case 0 | 1:  # a white-label JWT whose claim sets the limit
                kind, token, overrides = "claims3", claims_token({"limit_override": 3}, name), None
            case 2:  # the operator's override, below what the claim allows
                kind, overrides = "override2", {"run": 2, "get": 4}
                token = claims_token({"exempt": False, "limit_override": 10}, subject=name)
            case 3:  # an opaque OAuth token: the defaults
                kind, token, overrides = "default3", f"opaque-token-{name}-0123456789", None
            case _ if n == 4:  # one token exempt from limits
                kind, token, overrides = "exempt", claims_token({"exempt": True}, name), None
            case _:
                kind, token, overrides = "claims2", claims_token({"limit_override": 2}, name), None
        plan[name] = {"kind": kind, "token": token, "overrides": overrides}
    return plan


@pytest.fixture
def cluster(tmp_path, postgres_url, sandbox, receiver):
    env = {
        "ZAPIER_RATE_WINDOW_SECONDS": str(WINDOW),
        "ZAPIER_RUN_LIMIT": str(RUN_LIMIT),
        "ZAPIER_GET_LIMIT": str(GET_LIMIT),
        "WORKER_THREADS": "6",
        "RELAY_ENCRYPTION_KEYS": TEST_KEY,
    }
    started = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        relay = e2e_relay(tmp_path / name, postgres_url, sandbox, receiver, env)
        started.append(relay.start())  # web (gunicorn, 2 processes) and one worker each
    yield started
    for relay in started:
        relay.stop()


def create_accounts(relay, plan: dict[str, dict]) -> list[str]:
    """POST /v1/accounts for each; the answers, for the no-token check."""
    answers = []
    for name, spec in plan.items():
        body = {"id": name, "token": spec["token"]}
        if spec["overrides"]:
            body["budget_overrides"] = spec["overrides"]
        answer = requests.post(f"{relay.base}/v1/accounts", json=body, headers=AUTH, timeout=30)
        assert answer.status_code == 201, answer.text
        answers.append(answer.text)
    return answers


def test_fifty_accounts_keep_their_budgets_and_lose_nothing(cluster, sandbox, receiver):
    sandbox.knobs(
        run_seconds=0.2,
        run_seconds_max=2.0,
        callback_drop=0.3,
        window_seconds=WINDOW,
        run_limit=RUN_LIMIT,
        get_limit=GET_LIMIT,
    )
    plan = account_plan()
    answers = create_accounts(cluster[0], plan)
    # Each account's runs come in a burst: its budget binds, and its backlog meets the others'.
    jobs = [(name, n) for name in plan for n in range(RUNS_EACH)]
    instances = itertools.cycle(cluster)
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        run_ids = list(
            pool.map(
                lambda job: next(instances).trigger(account=job[0], metadata={"n": job[1]}), jobs
            )
        )
    triggered_in = time.monotonic() - started
    assert len(set(run_ids)) == ACCOUNTS * RUNS_EACH
    expected_account = {run_id: job[0] for run_id, job in zip(run_ids, jobs, strict=True)}

    def all_forwarded(got):
        return {r["body"]["data"]["run_id"] for r in got} >= set(run_ids)

    assert receiver.wait_for(all_forwarded, 300), len(receiver.received)
    finished_in = time.monotonic() - started
    stats = sandbox.stats()
    rows = cluster[0].runs()

    # Every run forwarded once (one webhook-id), naming its own account.
    ids_per_run = collections.defaultdict(set)
    for forward in receiver.received:
        data = forward["body"]["data"]
        ids_per_run[data["run_id"]].add(forward["webhook_id"])
        assert data["account"] == expected_account[data["run_id"]], data
    assert all(len(ids) == 1 for ids in ids_per_run.values())
    assert receiver.rejected == []
    assert len(rows) == ACCOUNTS * RUNS_EACH
    assert {r["state"] for r in rows} <= {"succeeded", "failed"}
    assert stats["runs"]["stored_action"] == ACCOUNTS * RUNS_EACH  # none created twice

    # Each token within its budget: upstream never answered 429, and no window of a token
    # whose override is below its claims admitted more than the override.
    assert stats["answered_429"] == 0 and stats["answered_401"] == 0
    over = []
    most = {}
    for name, spec in plan.items():
        token_stats = stats["tokens"][fingerprint(spec["token"])]
        cap = spec["overrides"] or {}
        for bucket in ("run", "get"):
            windows = token_stats[bucket]["windows"]
            most[(name, bucket)] = max((w["admitted"] for w in windows), default=0)
            for window in windows:
                limit = cap.get(bucket, window["limit"])
                if limit is not None and window["admitted"] > limit:
                    over.append((name, bucket, window))
    assert over == []
    assert set(stats["tokens"]) == {fingerprint(s["token"]) for s in plan.values()}

    tokens = [spec["token"] for spec in plan.values()]
    leaks = token_leaks(cluster, sandbox, tokens, answers)
    figures = {
        "accounts": ACCOUNTS,
        "runs": len(rows),
        "triggered_in_s": round(triggered_in, 1),
        "all_forwarded_in_s": round(finished_in, 1),
        "states": collections.Counter(r["state"] for r in rows),
        "sources": collections.Counter(r["source"] for r in rows),
        "forwards_received": len(receiver.received),
        "upstream_429s": stats["answered_429"],
        "max_per_window_by_kind": {
            kind: {
                bucket: max(most[(n, bucket)] for n, spec in plan.items() if spec["kind"] == kind)
                for bucket in ("run", "get")
            }
            for kind in sorted({spec["kind"] for spec in plan.values()})
        },
        "token_leaks": len(leaks),
    }
    print(f"\nscale figures (accounts): {figures}")
    assert figures["sources"]["poll"] > 0 and figures["sources"]["callback"] > 0
    assert leaks == []


def token_leaks(cluster, sandbox, tokens: list[str], answers: list[str]) -> list[str]:
    """Where any token shows up: process logs, API answers, relay database, sandbox database."""
    found = []
    texts = {f"answer {i}": text for i, text in enumerate(answers)}
    relay = cluster[0]
    for path in ("/v1/accounts", "/v1/runs?limit=100", "/metrics"):
        texts[f"GET {path}"] = requests.get(relay.base + path, headers=AUTH, timeout=30).text
    for instance in cluster:
        for log in Path(instance.workdir).glob("*.log"):
            texts[f"log {log.name}"] = log.read_text(errors="replace")
    texts["sandbox log"] = sandbox.child.output()
    with read(relay.engine) as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                texts.setdefault(f"table {table.name}", "")
                texts[f"table {table.name}"] += repr(tuple(row)) + "\n"
    sandbox_db = Path(sandbox.db_url.removeprefix("sqlite:///"))
    texts["sandbox database"] = sandbox_db.read_bytes().decode("latin-1")
    for where, text in texts.items():
        found += [f"{where}: token {i}" for i, token in enumerate(tokens) if token in text]
    return found
