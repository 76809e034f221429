"""The markdown of the polling benchmark's unbudgeted trade-off curve (section (c))."""

from __future__ import annotations

from bench.sections import f, table


def curve(c: dict) -> list[str]:
    marks = {m["label"]: m for m in c["dominance"]["median"]}
    rows = []
    for p in c["relay"] + c["naive"]:
        mark = marks.get(p["label"])
        rows.append(
            [
                p["who"],
                p["label"],
                f(p["gets_per_run"], 2),
                f(p["mean"], 1),
                f(p["median"], 1),
                f(p["max"], 1),
                f(p.get("first_poll_median"), 1),
                "-" if mark is None else (", ".join(mark["dominated_by"]) or "none"),
                "-" if mark is None else f(mark["naive_at_same_gets"], 1),
                "-" if "all_runs" not in p else _all_runs(p["all_runs"]),
            ]
        )
    lines = [
        f"**Trade-off with the GET budget lifted** ({c['runs']:,} runs arriving every 1.5 s; "
        f"figures over the {c['measured_runs']:,} submitted after the first "
        f"{c['warmup_s']:.0f} s, by when the relay has seen runs of every length end). "
        f"Dominance check: {c['verdict']}"
        + ("" if c["knob_moved_the_relay"] else "; **GET_PRICE_SECONDS did not move the relay**")
        + ".",
        "",
    ]
    lines += table(
        [
            "poller",
            "setting",
            "GETs/run",
            "mean s",
            "median s",
            "max s",
            "first poll s (median)",
            "dominated by (median)",
            "fixed-interval median at the same GETs s",
            "relay, all runs: GETs/run, median s",
        ],
        rows,
    )
    return lines


def _all_runs(fig: dict) -> str:
    return f"{f(fig['gets_per_run'], 2)}, {f(fig['median'], 1)}"
