"""The markdown of the polling benchmark's section (c): tables and verdicts."""

from __future__ import annotations

from bench.polling_curve_section import curve
from bench.polling_targets import every
from bench.sections import f, table, verdict

WORKLOADS = {
    "burst": "(i) Burst: {runs:,} runs submitted at once, 600 GETs / 300 s, the relay cold",
    "steady": "(ii) Steady state: a run every 1.5 s (200 per 300 s) for {span:,.0f} s, "
    "{runs:,} runs, 600 GETs / 300 s, the relay learning as its runs settle",
}
ROWS = (("mean", "mean delay s"), ("median", "median delay s"), ("p90", "p90 delay s"))
ROWS += (("max", "max delay s"), ("gets_per_run", "GETs per run"))
TARGET_OF = {"mean": "mean delay", "median": "median delay", "max": "max delay"}


def _verdict(target: dict | None) -> str:
    if target is None:
        return "reported"
    if target["met"]:
        return "met"
    return f"**MISSED** ({target['reason']})"


def _target(d: dict, stat: str) -> dict | None:
    name = TARGET_OF.get(stat)
    return next((t for t in d["targets"] if name and t["target"].startswith(name)), None)


def workload(d: dict, title: str) -> list[str]:
    relay, best = d["relay"], d["best"]
    rows = []
    for stat, label in ROWS:
        mine, theirs = relay[stat], best[stat]
        target = _target(d, stat)
        digits = 2 if stat == "gets_per_run" else 1
        bound = {"mean": "<= best", "median": "<= best", "max": "<= 1.5x best"}.get(stat, "-")
        rows.append(
            [
                label,
                f(mine, digits),
                f"{f(theirs['value'], digits)} ({every(theirs)})",
                f"{mine / theirs['value']:.2f}" if theirs["value"] else "-",
                bound,
                _verdict(target),
            ]
        )
    no_429 = next(t for t in d["targets"] if t["target"] == "no upstream 429")
    rows.append(["upstream 429s", d["answered_429"], "0 (limiter)", "-", "0", _verdict(no_429)])
    lines = [f"**{title}.**", ""]
    lines += table(
        ["statistic", "relay", "best fixed interval", "ratio", "target", "verdict"], rows
    )
    missed = [t for t in d["targets"] if not t["met"]]
    if missed and d["span_s"] == 0:
        best = d["best"]["median"]["interval"]
        lines += [
            "Why the burst's misses stand: the budget lets only "
            f"{d['max_gets_per_window']} of the {d['runs']:,} first polls go in the first "
            "window. The relay is cold (no run of this stored action has ended yet), so it "
            "knows no better time for them than its fixed first poll, and spreads them over "
            f"the window from there. The best fixed interval, {best:g} s, is picked with "
            "hindsight from a sweep over this very workload: behind its limiter it spends "
            "the window's GETs at once, when most of these runs happen to have ended.",
            "",
        ]
    lines += [
        f"Relay: most GETs in one window {d['max_gets_per_window']}, idle clock steps "
        f"{d['idle_steps']} (due work it could not claim), runs never settled {d['unsettled']}, "
        f"{d['worker_passes']:,} polls simulated in {d['cpu_seconds']:.0f} s.",
        "",
    ]
    if "relay_after_warmup" in d:
        after, best_after = d["relay_after_warmup"], d["best_after_warmup"]
        lines += [
            f"Runs submitted after the first {d['warmup_s']:.0f} s ({after['n']:,}): relay "
            + ", ".join(
                f"{label.split(' s')[0]} {f(after[stat], 1)} vs {f(best_after[stat]['value'], 1)} "
                f"({every(best_after[stat])})"
                for stat, label in ROWS[:4]
            )
            + f"; GETs/run {f(after['gets_per_run'], 2)}.",
            "",
        ]
    lines += table(
        [
            "every",
            "without limiter: most GETs in a window",
            "polls held by the limiter",
            "mean s",
            "median s",
            "p90 s",
            "max s",
            "GETs/run",
        ],
        [
            [
                f"{r['interval']:g} s",
                f"{r['pure_peak']:,} ({'feasible' if r['pure_feasible'] else 'over budget'})",
                f"{r['held']:,}",
                *(f(r["figures"][s], 1) for s in ("mean", "median", "p90", "max")),
                f(r["figures"]["gets_per_run"], 2),
            ]
            for r in d["sweep"]
        ],
    )
    return lines


def polling(d: dict) -> tuple[list[str], list[list]]:
    lines, verdicts = [], []
    for key, title in WORKLOADS.items():
        part = d[key]
        name = title.format(runs=part["runs"], span=part["span_s"] + 1.5).split(":")[0]
        lines += workload(part, title.format(runs=part["runs"], span=part["span_s"] + 1.5))
        for t in part["targets"]:
            told = t["figure"] if t["met"] else f"{t['figure']}; missed: {t['reason']}"
            verdicts.append([f"(c) {name}: {t['target']}", told, verdict(t["met"])])
    c = d["curve"]
    lines += curve(c)
    verdicts.append(
        ["(c) no relay point of the unbudgeted curve dominated", c["verdict"], verdict(c["met"])]
    )
    cb = d["callbacks_in_time"]
    lines += table(
        ["callbacks on, none lost (0.5 s after the result)", "value"],
        [
            ["runs", cb["runs"]],
            [f"callback within the grace ({cb['grace']:g} s) of submission", cb["in_time"]],
            ["of those, polled (GETs)", f"{cb['polled_in_time']} ({cb['gets_in_time']})"],
            [
                "later callbacks: runs, GETs per run",
                f"{cb['later']}, {f(cb['later_gets_per_run'], 2)}",
            ],
        ],
    )
    verdicts.append(
        [
            "(c) runs whose callbacks arrive in time are never polled",
            f"{cb['polled_in_time']} of {cb['in_time']} polled",
            verdict(cb["met"]),
        ]
    )
    live = d["live"]["comparison"]
    lag = live["delay_real_minus_sim_s"]
    lines += table(
        ["real-time cross-check", "value"],
        [
            [
                f"runs (1-{d['live']['longest']:g} s, callbacks dropped, CALLBACKS=off)",
                d["live"]["runs"],
            ],
            ["upstream GETs, real / simulated", f"{live['gets_real']} / {live['gets_sim']}"],
            ["runs whose GET count differs", live["runs_with_other_gets"]],
            [
                "detection delay, real minus simulated: p50 / max s",
                f"{f(lag['p50'], 2)} / {f(lag['max'], 2)}",
            ],
        ],
    )
    return lines, verdicts
