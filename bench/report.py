"""docs/benchmarks.md from the result files: environment, summary of targets, one section each."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import text

from app.store.engine import build_engine
from bench import charts, isolation_section, polling_section, retention_section, sections
from bench.common import PG_ADMIN_URL, load_result, quick
from bench.loadgen import generator_name
from tests.support.processes import ROOT

DOCS = ROOT / "docs"

METHOD = {
    "ingest": (
        "(a) Callback ingest",
        "Runs already accepted upstream are inserted into a fresh database; the load generator "
        "then POSTs each run's own signed callback URL (`/callbacks/<run id>/<token>`) with a "
        "valid `StoredActionResult` body, 16 keep-alive connections, closed loop. Every answer "
        "counted is a 2xx sent after the callback was validated and committed (with its "
        "forward's delivery row). The baseline is `bench/bare_app.py`, a Flask app that reads "
        "the body and answers 204, under the same `deploy/gunicorn.conf.py` (2 gthread workers "
        "x 8 threads, access log on), measured back to back in each round. No worker process "
        "runs during the load. A 2 s warm-up precedes each measurement.",
    ),
    "latency": (
        "(b) End-to-end latency",
        "Real gunicorn web + one `relay worker` + a verifying subscriber. Callback path: the "
        "bench plays upstream, POSTs each run's callback and times the verified forward's "
        "arrival at the subscriber (runs started at 25/s, open loop). Poll path: the sandbox "
        "drops every callback (`callback_drop=1`, runs of 0.5 s), the relay polls after a 1 s "
        "grace every 1 s (`CALLBACK_GRACE_SECONDS=1`, `POLL_MAX_INTERVAL_SECONDS=1`); "
        "'result ready' is the sandbox's planned `done_at`. Rate budgets are lifted here: "
        "(c) and (d) measure them.",
    ),
    "polling": (
        "(c) Polling efficiency under 100% callback loss",
        "**Simulated, not in real time.** `bench/polling_sim.py` drives the relay's own code - "
        "`apply_submit_outcome`, `app.worker.tasks.poll_one` with its poll plan learned per "
        "stored action (`app/runs/poll_plan.py`), the `UpstreamGateway` and `RateBudget`, on a "
        "real SQLite database - with `time.time()` replaced by a virtual clock that moves to "
        "`next_upstream_due_at(now)`, the worker's own 'when can work be done' (a step of 0.5 s, "
        "counted as an idle step, when it names a time that has come yet nothing can be "
        "claimed). The simulated upstream answers 202 until a run's result is ready, then 200, "
        "with the sandbox's fixed windows on its grid, `X-RateLimit-*` headers and 429s past "
        "the limit (counted). One worker thread; processing takes no virtual time. The relay "
        "runs polling only (`CALLBACKS=off`: no callback URL, no grace), other settings at "
        "their defaults (600 GETs / 300 s, `POLL_MAX_INTERVAL_SECONDS=300`), every run of one "
        "stored action, stored as the trigger stores it. Durations are log-uniform from 1 s to "
        "10 min (seeded). Workloads: (i) a burst submitted at once, the relay cold; (ii) a run "
        "every 1.5 s (the default POST budget, 200 per 300 s, in full), the relay learning "
        "from its runs as they settle. Baseline: a script GETting each run every I s from "
        "submission. Without a limiter it is feasible only if it never sends more than 600 "
        "GETs in one of upstream's windows (marked per I); the comparison uses the same script "
        "behind a client-side limiter, a FIFO queue holding each poll until the window has "
        "room (so never a 429), the next poll of a run queued I s after its last one was sent. "
        "For each statistic the best I of 1 s - 10 min is taken, each its own. Detection "
        "delay = result known by the poller - result ready upstream. The trade-off curve lifts "
        "the budget and sweeps the relay's `GET_PRICE_SECONDS`. The callbacks-on check runs the "
        "same code with `CALLBACKS=on`, every callback 0.5 s after its result. A short real-"
        "time run (real worker + sandbox, `callback_drop=1`, `CALLBACKS=off`) is then replayed "
        "through the simulation with the same submission and ready times, to check the two "
        "agree.",
    ),
    "burst": (
        "(d) Trigger burst",
        "Triggers sent at once by 64 client threads to the real relay (gunicorn + one worker) "
        "against the sandbox, with callbacks on. **Time is compressed:** upstream's window is "
        "shortened through the sandbox's `window_seconds` knob and the relay's "
        "`ZAPIER_RATE_WINDOW_SECONDS`, while both limits stay at 200 run POSTs per window; "
        "five 300 s windows do not fit in `make bench`. Counted by the sandbox: run POSTs "
        "admitted per window and 429s; by the subscriber: forwards per run.",
    ),
    "memory": (
        "(e) Memory",
        "Runs triggered through the real relay (8 clients), submitted to the sandbox (0.05 s "
        "runs, callbacks on), called back and forwarded to a verifying subscriber. RSS "
        "(`VmRSS` of `/proc/<pid>/status`) of both gunicorn workers, of the `relay worker` "
        "and, for reference, of the sandbox, sampled whenever every run so far has been "
        "forwarded. Rate budgets are lifted here.",
    ),
    "isolation": (
        "(f) Isolation: slow and dead subscribers",
        "One relay (gunicorn + one worker, SQLite) on the sandbox, callbacks on, runs triggered "
        "16 at a time. Alone: every run is forwarded to one healthy subscriber. Beside bad "
        "targets: the same, with three more subscriptions on every run: a black hole (accepts "
        "the connection, never answers), a target answering after 14 s, and one dripping its "
        "answer a byte a second (`FORWARD_TIMEOUT_SECONDS=15`). Latency = the healthy "
        "subscriber's arrival - the run's `settled_at`. Fan-out: deliveries to 50 targets that "
        "each answer after 200 ms are queued with no worker running, then one worker is "
        "started; forwards per second between the first and the last arrival, against the "
        "limit its in-flight cap allows (`FORWARD_MAX_IN_FLIGHT` / 0.2 s).",
    ),
    "retention": (
        "(g) Retention: bytes per run and a soak",
        "One relay (gunicorn + one worker) on the sandbox, callbacks on, every run forwarded to "
        "3 targets (three `FORWARD_URLS`), on SQLite and on PostgreSQL. Bytes per run: 1,000 "
        "runs triggered at 20/s with retention off (`RETENTION_DAYS=0`), called back and "
        "forwarded; the relay's tables with their indexes before and after, divided by the "
        "runs (SQLite: pages in use; PostgreSQL: `pg_total_relation_size` after `VACUUM FULL`, "
        "the live rows; the size as written, dead row versions included, is shown too). The "
        "store's own purge then deletes them, batch by batch, timed. Soak: a fresh relay with "
        "a 45 s window (`RETENTION_DAYS` = 45 s), runs triggered at 10/s for 3 minutes, the "
        "size sampled every 20 s; the worker's maintenance lane purges. The server's "
        "autovacuum is off on the bench machine, so the bench runs a plain `VACUUM` before "
        "each PostgreSQL sample, as autovacuum would.",
    ),
    "idle": (
        "(h) Idle CPU",
        "`relay run` started as `make run` starts it (sandbox mode, SQLite, every other setting "
        "at its default, nothing else in its environment), then left alone: after a warm-up "
        "past the start-up, each process's CPU time (user + system, from `/proc/<pid>/stat`) "
        "over a minute, as a share of one core. The worker sleeps until its next timed work "
        "and wakes at once on a commit (the SQLite commit watch), which (b) measures.",
    ),
}
RENDER = {
    "ingest": (sections.ingest, charts.ingest),
    "latency": (sections.latency, charts.latency),
    "polling": (polling_section.polling, charts.polling),
    "burst": (sections.burst, charts.burst),
    "memory": (sections.memory, charts.memory),
    "isolation": (isolation_section.isolation, isolation_section.isolation_chart),
    "retention": (retention_section.retention, retention_section.retention_chart),
    "idle": (sections.idle, lambda _data, _docs: []),
}


def _with_reason(row: list, timing: dict) -> list:
    """A missed target's row says why: its section's own reason (after "missed:") when it has
    one, and always the machine's load while it ran (its 1-minute average, before -> after)."""
    target, figure, told = row
    if told != sections.verdict(False):
        return row
    load = timing.get("load_1min")
    if load:
        cores = os.cpu_count()
        figure += (
            f"; measured under a load average of {load[0]:.1f} -> {load[1]:.1f} on {cores} cores"
        )
    return [target, figure, told]


def _run(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return "n/a"


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"


def environment() -> dict:
    try:
        engine = build_engine(PG_ADMIN_URL, pool_size=1)
        with engine.connect() as conn:
            postgres = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    except Exception as err:  # reported, not fatal: the PostgreSQL figures will say why
        postgres = f"unreachable ({type(err).__name__})"
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    dirty = " + uncommitted changes" if _run("git", "status", "--porcelain") else ""
    return {
        "figures started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": postgres,
        "packages": ", ".join(
            f"{p} {version(p)}" for p in ("flask", "gunicorn", "SQLAlchemy", "psycopg")
        ),
        "load_generator": f"{generator_name()} ({_run('wrk', '-v').splitlines()[0]})"
        if generator_name() == "wrk"
        else "Python threads (wrk not installed)",
        "commit": _run("git", "rev-parse", "--short", "HEAD") + dirty,
        "quick": quick(),
        "load_before": load_average(),
    }


def write(env: dict, timings: dict[str, dict]) -> Path:
    DOCS.mkdir(exist_ok=True)
    summary_rows, body = [], []
    for name, (title, method) in METHOD.items():
        body += [f"## {title}", "", method, ""]
        data, timing = load_result(name), timings.get(name, {})
        if data is None or timing.get("failed"):
            body += [f"**Did not complete** ({timing.get('failed', 'no result file')}).", ""]
            summary_rows.append([title, "did not complete", "**missed**"])
            continue
        try:
            lines, verdicts = RENDER[name][0](data)
            plots = RENDER[name][1](data, DOCS)
        except (KeyError, TypeError, ValueError) as err:
            body += [f"**Result file unreadable** ({err!r}): run `make bench` again.", ""]
            summary_rows.append([title, "result file unreadable", "**missed**"])
            continue
        body += lines
        body += [f"![{title}]({png})" for png in ([plots] if isinstance(plots, str) else plots)]
        began = timing.get("started", "n/a")
        body += ["", f"Started {began}, wall time {timing.get('seconds', 0):.0f} s.", ""]
        # The polling section runs on a virtual clock: the machine's load changes none of it.
        timed = timing if name != "polling" else {}
        summary_rows += [_with_reason(row, timed) for row in verdicts]
    head = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand. "
        + (
            "**Quick smoke run (BENCH_QUICK=1): small samples, not the reference figures.**"
            if env["quick"]
            else "Full run."
        ),
        "",
        "## Environment",
        "",
        *sections.table(["what", "value"], [[k, v] for k, v in env.items() if k != "quick"]),
        "The machine is shared (other engineers run tests on it), so absolute figures are noisy;"
        " each ratio compares runs made back to back in the same session.",
        "",
        "## Targets",
        "",
        *sections.table(["target", "figure", "verdict"], summary_rows),
    ]
    path = DOCS / "benchmarks.md"
    path.write_text("\n".join(head + body).rstrip() + "\n")
    return path
