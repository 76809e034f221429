"""(c) Polling under 100% callback loss: the relay's own poller against fixed-interval scripts."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from app.config.settings import load_settings
from bench.common import quick, save_result
from bench.fixed_pollers import sweep
from bench.polling_curve import PRICES, callbacks_in_time, tradeoff_curve
from bench.polling_live import live_run
from bench.polling_sim import SimRun, simulate
from bench.polling_targets import best_fixed, figures, verdicts

T0 = 1_800_000_000.0  # virtual start, on upstream's 300 s grid
SHORTEST, LONGEST = 1.0, 600.0
SEED = 15
GET_LIMIT, WINDOW = 600, 300.0  # the default GET budget
ARRIVAL_GAP = WINDOW / 200  # the default POST budget (200 per 300 s), used in full
WARMUP = 600.0
INTERVALS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
POLLING_ONLY = {"CALLBACKS": "off"}  # no callback_url upstream, no grace: polls only
CAP = load_settings({}).poll_max_interval_seconds  # the default, as the simulated relay has it


def durations(count: int) -> list[float]:
    """Log-uniform from 1 s to 10 min (as many runs of 1-10 s as of 1-10 min), seeded."""
    rng = random.Random(SEED)
    return [SHORTEST * (LONGEST / SHORTEST) ** rng.random() for _ in range(count)]


def burst_specs(count: int) -> list[SimRun]:
    return [SimRun(T0, T0 + d) for d in durations(count)]


def steady_specs(seconds: float, latency: float | None = None) -> list[SimRun]:
    """One run every ARRIVAL_GAP for `seconds`; `latency`: each callback arrives that long after
    its result (None: every callback is lost)."""
    count = round(seconds / ARRIVAL_GAP)
    specs = []
    for i, d in enumerate(durations(count)):
        at = T0 + i * ARRIVAL_GAP
        specs.append(SimRun(at, at + d, None if latency is None else at + d + latency))
    return specs


def workload(specs: list[SimRun], workdir: Path, warmup: float = 0.0) -> dict:
    """The relay under the default GET budget, cold, against every fixed interval behind a
    limiter; figures over all runs, and over those submitted after `warmup` s."""
    relay = simulate(specs, workdir, GET_LIMIT, WINDOW, **POLLING_ONLY)
    rows = sweep(specs, INTERVALS, GET_LIMIT, WINDOW)
    later = [i for i, s in enumerate(specs) if s.submit_at >= T0 + warmup]
    for row in rows:
        row["figures"] = figures(row["runs"])
        row["after_warmup"] = figures([row["runs"][i] for i in later])
    relay_fig = figures(relay["runs"])
    best = best_fixed(rows)
    best_runs = next(r["runs"] for r in rows if r["interval"] == best["mean"]["interval"])
    result = {
        "runs": len(specs),
        "span_s": specs[-1].submit_at - specs[0].submit_at,
        "relay": relay_fig,
        "best": best,
        "targets": verdicts(specs, relay, relay_fig, rows, GET_LIMIT, CAP),
        "sweep": [{k: v for k, v in r.items() if k != "runs"} for r in rows],
        **{k: relay[k] for k in ("answered_429", "max_gets_per_window", "gets_per_window")},
        **{k: relay[k] for k in ("idle_steps", "unsettled", "worker_passes", "cpu_seconds")},
        "per_run": [
            [s.ready_at - s.submit_at, r["delay"], r["gets"], b["delay"]]
            for s, r, b in zip(specs, relay["runs"], best_runs, strict=True)
        ],
    }
    if warmup:
        result["warmup_s"] = warmup
        result["relay_after_warmup"] = figures([relay["runs"][i] for i in later])
        result["best_after_warmup"] = best_fixed(rows, "after_warmup")
    return result


def run() -> dict:
    burst_count, steady_seconds, callback_seconds, live = (
        (200, 900.0, 300.0, (10, 10)) if quick() else (1000, 3600.0, 900.0, (40, 30))
    )
    # The curve: the steady workload without a budget, measured after its warm-up.
    curve_seconds, curve_warmup, prices = (
        (300.0, 150.0, (1.0, 8.0, 64.0)) if quick() else (1200.0, WARMUP, PRICES)
    )
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() else None
    result = {"sim_db": str(base or "tmp"), "seed": SEED, "get_limit": GET_LIMIT}
    with tempfile.TemporaryDirectory(prefix="bench-polling-", dir=base) as tmp:
        workdir = Path(tmp)
        for name, specs, warmup in (
            ("burst", burst_specs(burst_count), 0.0),
            ("steady", steady_specs(steady_seconds), WARMUP),
        ):
            started = time.monotonic()
            result[name] = workload(specs, workdir, warmup)
            result[name]["wall_seconds"] = time.monotonic() - started
            print(f"polling {name}: {_said(result[name])}", flush=True)
        specs = steady_specs(curve_seconds)
        result["curve"] = tradeoff_curve(specs, workdir, POLLING_ONLY, curve_warmup, prices)
        print(f"polling curve: {result['curve']['verdict']}", flush=True)
        specs = steady_specs(callback_seconds, latency=0.5)
        in_time = callbacks_in_time(specs, workdir, GET_LIMIT, WINDOW)
        result["callbacks_in_time"] = in_time
        print(f"polling callbacks in time: {in_time['polled_in_time']} polled", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-polling-live-") as tmp:
        started = time.monotonic()
        result["live"] = live_run(Path(tmp), *live)
        result["live"]["wall_seconds"] = time.monotonic() - started
        print(f"polling live cross-check: {result['live']['comparison']}", flush=True)
    return result


def _said(part: dict) -> str:
    relay = part["relay"]
    told = ", ".join(f"{t['target']}: {'met' if t['met'] else 'MISSED'}" for t in part["targets"])
    return (
        f"relay mean {relay['mean']:.1f} s, median {relay['median']:.1f} s, max "
        f"{relay['max']:.0f} s, {relay['gets_per_run']:.2f} GETs/run; {told}"
    )


if __name__ == "__main__":
    save_result("polling", run())
