"""Run every benchmark, each in its own process, then write docs/benchmarks.md and its plots.

Usage: python -m bench.run_all [name ...]   (default: all; --report-only re-renders saved results)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import report
from bench.common import RESULTS_DIR
from tests.support.processes import ROOT

BENCHMARKS = (
    "ingest",
    "latency",
    "polling",
    "burst",
    "memory",
    "isolation",
    "retention",
    "idle",
)


def run_one(name: str) -> dict:
    """One benchmark in a fresh interpreter, so one's processes or clock never leak into another."""
    (RESULTS_DIR / f"{name}.json").unlink(missing_ok=True)
    started = time.monotonic()
    began = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()[0]
    print(f"== bench {name}", flush=True)
    done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)
    timing = {"seconds": time.monotonic() - started, "started": began}
    # The machine is shared: a missed target names the load it was measured under.
    timing["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if done.returncode != 0:
        timing["failed"] = f"exit status {done.returncode}; see the output of make bench"
    print(f"== bench {name}: {timing}", flush=True)
    return timing


def main(argv: list[str]) -> int:
    report_only = "--report-only" in argv
    names = [a for a in argv if not a.startswith("--")] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    timings_file, env_file = RESULTS_DIR / "timings.json", RESULTS_DIR / "environment.json"
    timings = _read_json(timings_file)
    if report_only:
        env = _read_json(env_file) or report.environment()  # as it was when the figures ran
    else:
        env = report.environment()
        for name in names:
            timings[name] = run_one(name)
        env["load_after"] = report.load_average()
        _write_json(timings_file, timings)
        _write_json(env_file, env)
    path = report.write(env, timings)
    print(f"wrote {path.relative_to(ROOT)}")
    return 1 if any("failed" in t for t in timings.values()) else 0


def _read_json(path) -> dict:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def _write_json(path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
