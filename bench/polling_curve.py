"""(c) The unbudgeted trade-off curve (relay knob against fixed intervals), and the check that
runs whose callbacks come in time are never polled."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

from app.config.settings import load_settings
from bench.fixed_pollers import pure
from bench.polling_sim import SimRun, simulate
from bench.polling_targets import dominance, figures, first_poll_median

# GET_PRICE_SECONDS (app/runs/poll_plan.py): the seconds of waiting one GET is worth; the next
# poll goes where the waiting it saves reaches it. Lower polls sooner and more often.
PRICES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
CURVE_INTERVALS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)


@contextlib.contextmanager
def get_price(value: float):
    """GET_PRICE_SECONDS set in this process for the duration; False if the knob is absent."""
    try:
        plan = importlib.import_module("app.runs.poll_plan")
    except ImportError:
        yield False
        return
    if not hasattr(plan, "GET_PRICE_SECONDS"):
        yield False
        return
    before = plan.GET_PRICE_SECONDS
    plan.GET_PRICE_SECONDS = value
    try:
        yield True
    finally:
        plan.GET_PRICE_SECONDS = before


def tradeoff_curve(
    specs: list[SimRun], workdir: Path, env: dict, warmup: float, prices=PRICES
) -> dict:
    """GETs per run against detection delay with the GET budget lifted: the relay for each
    GET_PRICE_SECONDS, a fixed-interval poller for each interval; is any relay point dominated?
    Figures over the runs submitted `warmup` s after the first, once the relay has seen runs
    of every length end; the relay's over all runs besides."""
    start = specs[0].submit_at + warmup
    later = [i for i, s in enumerate(specs) if s.submit_at >= start]
    relay_points = []
    for price in prices:
        with get_price(price) as knob:
            if not knob and relay_points:
                break  # no knob to turn: the default point only
            sim = simulate(specs, workdir, **env)
        label = f"GET price {price:g} s" if knob else "defaults (no GET_PRICE_SECONDS knob)"
        relay_points.append(
            {"who": "relay", "label": label, "price": price if knob else None}
            | figures([sim["runs"][i] for i in later])
            | {
                "first_poll_median": first_poll_median(
                    [sim["runs"][i]["first_poll"] for i in later]
                )
            }
            | {"all_runs": figures(sim["runs"]), "answered_429": sim["answered_429"]}
            | {"idle_steps": sim["idle_steps"], "unsettled": sim["unsettled"]}
        )
    naive_points = []
    for interval in CURVE_INTERVALS:
        found = pure(specs, interval)
        naive_points.append(
            {"who": "naive", "label": f"every {interval:g} s", "interval": interval}
            | figures([found[i] for i in later])
            | {"first_poll_median": float(interval)}
        )
    checks = {stat: dominance(relay_points, naive_points, stat) for stat in ("median", "mean")}
    dominated = [c for c in checks["median"] if c["dominated_by"]]
    moved = len({round(p["gets_per_run"], 9) for p in relay_points}) > 1
    if dominated:
        said = "; ".join(_dominated(c, relay_points, naive_points) for c in dominated)
        verdict = f"dominated (median): {said}"
    else:
        verdict = f"none of {len(relay_points)} relay points dominated (median)"
    return {
        "runs": len(specs),
        "measured_runs": len(later),
        "warmup_s": warmup,
        "relay": relay_points,
        "naive": naive_points,
        "dominance": checks,
        "met": not dominated,
        "verdict": verdict,
        "knob_moved_the_relay": moved,
    }


def _dominated(check: dict, relay_points: list[dict], naive_points: list[dict]) -> str:
    """One dominated relay point, measured: its figures, its dominators', its first poll."""
    mine = next(p for p in relay_points if p["label"] == check["label"])
    theirs = [p for p in naive_points if p["label"] in check["dominated_by"]]
    return (
        f"{mine['label']} ({mine['gets_per_run']:.2f} GETs/run, median {mine['median']:.1f} s, "
        f"first poll a median {mine['first_poll_median']:.0f} s after submission) by "
        + ", ".join(
            f"{p['label']} ({p['gets_per_run']:.2f} GETs/run, {p['median']:.1f} s)" for p in theirs
        )
    )


def callbacks_in_time(specs: list[SimRun], workdir: Path, get_limit: int, window: float) -> dict:
    """Callbacks on, none lost, each 0.5 s after its result: a run whose callback arrives
    within CALLBACK_GRACE_SECONDS of its submission must never be polled."""
    grace = load_settings({}).callback_grace_seconds
    sim = simulate(specs, workdir, get_limit, window, CALLBACKS="on")
    in_time = [i for i, s in enumerate(specs) if s.callback_at < s.submit_at + grace]
    chosen = set(in_time)
    later = [i for i in range(len(specs)) if i not in chosen]
    polled = [i for i in in_time if sim["runs"][i]["gets"] > 0]
    return {
        "runs": len(specs),
        "grace": grace,
        "in_time": len(in_time),
        "polled_in_time": len(polled),
        "gets_in_time": sum(sim["runs"][i]["gets"] for i in in_time),
        "later": len(later),
        "later_gets_per_run": sum(sim["runs"][i]["gets"] for i in later) / max(1, len(later)),
        "polled_examples": [
            {"duration": specs[i].ready_at - specs[i].submit_at, "gets": sim["runs"][i]["gets"]}
            for i in polled[:5]
        ],
        "answered_429": sim["answered_429"],
        "met": not polled,
    }
