"""(c) Polling under 100% callback loss: the relay's schedule and budget against a naive poller."""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path

from app.config.settings import load_settings
from bench.common import quick, save_result, summary
from bench.polling_live import live_run
from bench.polling_sim import SimRun, simulate

T0 = 1_800_000_000.0  # virtual start: any time works, the windows stay on the same grid
SHORTEST, LONGEST = 1.0, 600.0
NAIVE_INTERVAL = 5.0


def log_spread(count: int) -> list[float]:
    """Durations evenly spaced on a log scale from 1 s to 10 min (as many short as long)."""
    return [SHORTEST * (LONGEST / SHORTEST) ** (i / (count - 1)) for i in range(count)]


def even_spread(count: int) -> list[float]:
    return [SHORTEST + (LONGEST - SHORTEST) * i / (count - 1) for i in range(count)]


def naive(durations: list[float], interval: float = NAIVE_INTERVAL) -> list[dict]:
    """A poller that GETs every `interval` seconds from submission until the result is there."""
    polls = [max(1, math.ceil(d / interval - 1e-9)) for d in durations]
    return [{"gets": k, "delay": k * interval - d} for k, d in zip(polls, durations, strict=True)]


def figures(per_run: list[dict]) -> dict:
    delays = [r["delay"] for r in per_run]
    return {
        "gets_total": sum(r["gets"] for r in per_run),
        "gets_per_run": sum(r["gets"] for r in per_run) / len(per_run),
        "delay": summary(delays),
        "delay_median": statistics.median(delays),
    }


def relay(durations: list[float], workdir: Path, grace: float, **options) -> dict:
    specs = [SimRun(T0, T0 + d) for d in durations]
    return simulate(specs, workdir, grace, **options)


def efficiency(durations: list[float], workdir: Path, grace: float) -> dict:
    """Steady state under loss (adaptive grace learned), and the first runs after it began."""
    simulated = relay(durations, workdir, grace, lost_history=True)
    mine, theirs = figures(simulated["runs"]), figures(naive(durations))
    return {
        "grace": grace,
        "relay": mine,
        "relay_cold": figures(relay(durations, workdir, grace)["runs"]),
        "naive": theirs,
        "gets_ratio": mine["gets_total"] / theirs["gets_total"],
        "per_run": [
            {
                "duration": d,
                "relay_gets": r["gets"],
                "relay_delay": r["delay"],
                "naive_gets": n["gets"],
                "naive_delay": n["delay"],
            }
            for d, r, n in zip(durations, simulated["runs"], naive(durations), strict=True)
        ],
    }


def sweep(durations: list[float], workdir: Path) -> list[dict]:
    """The trade-off: GETs per run against median delay, for several graces and intervals."""
    learned = relay(durations, workdir, 60.0, lost_history=True)["runs"]
    points = [{"who": "relay", "label": "learned grace", **figures(learned)}]
    for grace in (60.0, 30.0, 10.0):
        found = figures(relay(durations, workdir, grace)["runs"])
        points.append({"who": "relay", "label": f"cold, grace {grace:g} s", **found})
    for interval in (5.0, 10.0, 30.0, 60.0):
        found = figures(naive(durations, interval))
        points.append({"who": "naive", "label": f"every {interval:g} s", **found})
    for point in points:
        point.pop("delay")
    return points


def under_budget(durations: list[float], workdir: Path, grace: float) -> dict:
    """All runs pending at once, against the real 600-per-300 s GET budget, with the grace
    learned from lost callbacks (the most GETs), and cold (the configured grace)."""
    free = relay(durations, workdir, grace, lost_history=True)
    bound = relay(durations, workdir, grace, get_limit=600, window=300.0, lost_history=True)
    cold = relay(durations, workdir, grace, get_limit=600, window=300.0)
    naive_first_window = sum(min(n["gets"], 300 / NAIVE_INTERVAL) for n in naive(durations))
    return {
        "runs": len(durations),
        "grace": grace,
        "answered_429": bound["answered_429"],
        "max_gets_per_window": bound["max_gets_per_window"],
        "gets_per_window": bound["gets_per_window"],
        "with_budget": figures(bound["runs"]),
        "without_budget": figures(free["runs"]),
        "cold_with_budget": {**figures(cold["runs"]), "answered_429": cold["answered_429"]},
        "naive_gets_first_window": naive_first_window,
        "detected": [(r["ready_at"] - T0, r["delay"]) for r in bound["runs"]],
    }


def run() -> dict:
    grace = load_settings({}).callback_grace_seconds  # the relay's default
    count, pending = (100, 300) if quick() else (500, 1000)
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="bench-polling-", dir=base) as tmp:
        workdir = Path(tmp)
        result = {"grace_default": grace, "runs": count, "sim_db": str(base or "tmp")}
        result["log"] = efficiency(log_spread(count), workdir, grace)
        print(f"polling log spread: GET ratio {result['log']['gets_ratio']:.2f}", flush=True)
        result["even"] = efficiency(even_spread(count), workdir, grace)
        result["even"].pop("per_run")
        result["sweep"] = sweep(log_spread(count), workdir)
        result["budget"] = under_budget(log_spread(pending), workdir, grace)
        print(f"polling budget: 429s {result['budget']['answered_429']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-polling-live-") as tmp:
        started = time.monotonic()
        result["live"] = live_run(Path(tmp), 15 if quick() else 40)
        result["live"]["wall_seconds"] = time.monotonic() - started
        print(f"polling live cross-check: {result['live']['comparison']}", flush=True)
    return result


if __name__ == "__main__":
    save_result("polling", run())
