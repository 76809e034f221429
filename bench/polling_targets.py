"""(c) figures and verdicts: the relay against the best fixed interval; a miss says why."""

from __future__ import annotations

import itertools
import statistics

from bench.common import percentile

STATS = ("mean", "median", "p90", "max", "gets_per_run")
MAX_FACTOR = 1.5  # the relay's worst case may be this much the best fixed interval's
BANDS = ((0.0, 10.0), (10.0, 100.0), (100.0, float("inf")))  # run durations, s


def figures(per_run: list[dict]) -> dict:
    delays = [r["delay"] for r in per_run]
    gets = sum(r["gets"] for r in per_run)
    return {
        "n": len(per_run),
        "mean": statistics.fmean(delays),
        "median": statistics.median(delays),
        "p90": percentile(delays, 90),
        "max": max(delays),
        "gets_per_run": gets / len(per_run),
        "gets_total": gets,
    }


def best_fixed(rows: list[dict], key: str = "figures") -> dict:
    """Per statistic, the interval (behind the limiter) with the lowest value; ties: the longer."""
    best = {}
    for stat in STATS:
        row = min(rows, key=lambda r: (r[key][stat], -r["interval"]))
        best[stat] = {
            "value": row[key][stat],
            "interval": row["interval"],
            "limited": not row["pure_feasible"],  # over budget without its limiter
        }
    return best


def every(best: dict) -> str:
    """A best fixed interval as the tables name it."""
    return f"every {best['interval']:g} s" + (", limiter" if best["limited"] else "")


def _band_name(low: float, high: float) -> str:
    return f"runs over {low:g} s" if high == float("inf") else f"runs of {low:g}-{high:g} s"


def where_slower(specs, relay_runs, fixed_runs, stat: str) -> str:
    """The band of run durations where the relay loses most to the fixed poller (stat, s)."""
    pick = statistics.fmean if stat == "mean" else statistics.median
    worst, told = 0.0, "the relay is not slower in any band of durations"
    for low, high in BANDS:
        inside = [i for i, s in enumerate(specs) if low <= s.ready_at - s.submit_at < high]
        if not inside:
            continue
        mine = pick(relay_runs[i]["delay"] for i in inside)
        theirs = pick(fixed_runs[i]["delay"] for i in inside)
        loss = (mine - theirs) * len(inside)
        if loss > worst:
            worst = loss
            firsts = [relay_runs[i]["first_poll"] for i in inside]
            told = (
                f"slower on {_band_name(low, high)} ({len(inside)} runs): {stat} {mine:.1f} s vs "
                f"{theirs:.1f} s, on {_gets(relay_runs, inside):.1f} vs "
                f"{_gets(fixed_runs, inside):.1f} GETs/run; the relay's first poll of these "
                f"came a median {first_poll_median(firsts):.0f} s after submission"
            )
    return told


def first_poll_median(firsts: list[float | None]) -> float | None:
    """Median seconds from submission to a run's first GET (runs never polled left out)."""
    known = [t for t in firsts if t is not None]
    return statistics.median(known) if known else None


def _gets(runs: list[dict], inside: list[int]) -> float:
    return sum(runs[i]["gets"] for i in inside) / len(inside)


def worst_case_story(specs, relay_runs, per_window, limit: int, cap: float) -> str:
    """Why the relay's slowest detection took as long as it did, from its own GET times."""
    i = max(range(len(relay_runs)), key=lambda k: relay_runs[k]["delay"])
    run, spec = relay_runs[i], specs[i]
    gap = run["last_gap"]
    story = (
        f"its worst run ({spec.ready_at - spec.submit_at:.0f} s long, {run['gets']} GETs) was "
        f"found {run['delay']:.0f} s after its result"
        + (f", {gap:.0f} s after the poll before" if gap is not None else "")
    )
    if gap is not None and gap >= cap - 1.0:
        story += f" (POLL_MAX_INTERVAL_SECONDS, {cap:g} s)"
    full = sum(1 for _, n in per_window if n >= limit)
    if full:
        story += f"; the GET budget was spent in {full} of {len(per_window)} windows"
    return story


def verdicts(specs, relay: dict, relay_fig: dict, sweep_rows: list[dict], limit: int, cap: float):
    """The issue's targets for one workload: mean, median, max against the best fixed
    intervals; no 429. Each {target, figure, met, reason} (reason only when missed)."""
    best = best_fixed(sweep_rows)
    by_interval = {r["interval"]: r["runs"] for r in sweep_rows}
    found = []
    for stat in ("mean", "median"):
        mine, theirs = relay_fig[stat], best[stat]
        met = mine <= theirs["value"]
        reason = None
        if not met:
            fixed_runs = by_interval[theirs["interval"]]
            reason = where_slower(specs, relay["runs"], fixed_runs, stat)
        found.append(
            {
                "target": f"{stat} delay <= best fixed interval's",
                "figure": f"{mine:.1f} s vs {theirs['value']:.1f} s ({every(theirs)})",
                "met": met,
                "reason": reason,
            }
        )
    mine, theirs = relay_fig["max"], best["max"]
    bound = MAX_FACTOR * theirs["value"]
    met = mine <= bound
    found.append(
        {
            "target": f"max delay <= {MAX_FACTOR:g}x best fixed interval's",
            "figure": f"{mine:.0f} s vs {MAX_FACTOR:g} x {theirs['value']:.0f} s = {bound:.0f} s "
            f"({every(theirs)})",
            "met": met,
            "reason": None
            if met
            else worst_case_story(specs, relay["runs"], relay["gets_per_window"], limit, cap),
        }
    )
    breaches = relay["answered_429"]
    found.append(
        {
            "target": "no upstream 429",
            "figure": f"{breaches} 429s, most GETs in a window {relay['max_gets_per_window']}",
            "met": breaches == 0,
            "reason": None if breaches == 0 else "the relay sent GETs past upstream's window",
        }
    )
    return found


def dominance(relay_points: list[dict], naive_points: list[dict], stat: str) -> list[dict]:
    """For each relay point: the naive points that dominate it (no more GETs, no more delay,
    one of them strictly less), and the naive delay at its GETs, interpolated."""
    ordered = sorted(naive_points, key=lambda p: p["gets_per_run"])
    found = []
    for point in relay_points:
        over = [
            n["label"]
            for n in naive_points
            if n["gets_per_run"] <= point["gets_per_run"]
            and n[stat] <= point[stat]
            and (n["gets_per_run"] < point["gets_per_run"] or n[stat] < point[stat])
        ]
        found.append(
            {
                "label": point["label"],
                "dominated_by": over,
                "naive_at_same_gets": _interpolate(ordered, point["gets_per_run"], stat),
            }
        )
    return found


def _interpolate(ordered: list[dict], gets: float, stat: str) -> float | None:
    for low, high in itertools.pairwise(ordered):
        if low["gets_per_run"] <= gets <= high["gets_per_run"]:
            span = high["gets_per_run"] - low["gets_per_run"]
            share = 0.0 if span == 0 else (gets - low["gets_per_run"]) / span
            return low[stat] + share * (high[stat] - low[stat])
    return None  # outside the naive curve's range of GETs
