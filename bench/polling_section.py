"""The markdown of the polling benchmark's section (c): tables and verdicts."""

from __future__ import annotations

from bench.sections import f, table, verdict


def polling(d: dict) -> tuple[list[str], list[list]]:
    rows = []
    for key, spread in (("log", "log-spread"), ("even", "evenly spread")):
        n = d[key]["naive"]
        for who, label in (("relay", "learned grace"), ("relay_cold", "cold, grace 60 s")):
            r = d[key][who]
            rows.append(
                [
                    f"{spread}, relay {label}",
                    f(r["gets_per_run"], 2),
                    f(n["gets_per_run"], 2),
                    f"{r['gets_total'] / n['gets_total']:.2f}",
                    f(r["delay_median"], 1),
                    f(n["delay_median"], 1),
                    f(r["delay"]["max"], 1),
                    f(n["delay"]["max"], 1),
                ]
            )
    lines = table(
        [
            "runs (1 s-10 min), relay",
            "relay GETs/run",
            "naive GETs/run",
            "GET ratio",
            "relay median delay s",
            "naive median delay s",
            "relay max s",
            "naive max s",
        ],
        rows,
    )
    lines += [
        "Trade-off (same log-spread runs): mean GETs per run against median detection "
        "delay, for other graces (relay) and intervals (naive):",
        "",
    ]
    lines += table(
        ["poller", "setting", "GETs/run", "median delay s"],
        [
            [p["who"], p["label"], f(p["gets_per_run"], 2), f(p["delay_median"], 1)]
            for p in d["sweep"]
        ],
    )
    b = d["budget"]
    bound, free, cold = b["with_budget"], b["without_budget"], b["cold_with_budget"]
    lines += table(
        [
            "1,000 pending at once",
            "learned grace, 600 GETs / 300 s",
            "learned grace, no budget",
            "cold (grace 60 s), 600 GETs / 300 s",
        ],
        [
            [
                "GETs per run",
                f(bound["gets_per_run"], 2),
                f(free["gets_per_run"], 2),
                f(cold["gets_per_run"], 2),
            ],
            [
                "median delay s",
                f(bound["delay_median"], 1),
                f(free["delay_median"], 1),
                f(cold["delay_median"], 1),
            ],
            [
                "worst-case delay s",
                f(bound["delay"]["max"], 1),
                f(free["delay"]["max"], 1),
                f(cold["delay"]["max"], 1),
            ],
            ["most GETs in one window", b["max_gets_per_window"], "-", "-"],
            ["upstream 429s", b["answered_429"], "-", cold["answered_429"]],
        ],
    )
    live = d["live"]["comparison"]
    lag = live["delay_real_minus_sim_s"]
    lines += table(
        ["real-time cross-check", "value"],
        [
            ["runs (1-30 s, callbacks dropped, grace 5 s)", d["live"]["runs"]],
            ["upstream GETs, real / simulated", f"{live['gets_real']} / {live['gets_sim']}"],
            ["runs whose GET count differs", live["runs_with_other_gets"]],
            [
                "detection delay, real minus simulated: p50 / max s",
                f"{f(lag['p50'], 2)} / {f(lag['max'], 2)}",
            ],
        ],
    )
    log = d["log"]
    met = (
        log["gets_ratio"] <= 1 / 3 and log["relay"]["delay_median"] <= log["naive"]["delay_median"]
    )
    zero_429 = b["answered_429"] == 0 and cold["answered_429"] == 0
    worst = max(bound["delay"]["max"], cold["delay"]["max"])
    verdicts = [
        [
            "(c) <= 1/3 of the naive GETs at equal or better median delay (learned grace)",
            f"{log['gets_ratio']:.2f} of the GETs, median delay "
            f"{f(log['relay']['delay_median'], 1)} s vs {f(log['naive']['delay_median'], 1)} s",
            verdict(met),
        ],
        [
            "(c) 1,000 pending runs: zero upstream 429s",
            f"{b['answered_429']} learned, {cold['answered_429']} cold (max "
            f"{b['max_gets_per_window']} GETs in a window)",
            verdict(zero_429),
        ],
        ["(c) 1,000 pending runs: worst-case detection delay", f"{f(worst, 1)} s", "reported"],
    ]
    return lines, verdicts
