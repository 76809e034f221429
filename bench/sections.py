"""The markdown of each benchmark's section; each returns (lines, verdicts for the summary)."""

from __future__ import annotations

import itertools


def f(value, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def ingest(d: dict) -> tuple[list[str], list[list]]:
    rows, ratios, lost = [], [], 0
    for index, row in enumerate(d["rounds"], 1):
        bare = row["bare"]["rate"]
        for target in ("bare", "sqlite", "postgres"):
            fig = row[target]
            ratio = fig["rate"] / bare
            if target == "sqlite":
                ratios.append(ratio)
            held = fig.get("durability")
            lost += held["lost"] if held else 0
            kept = f"{held['stored']:,} stored / {held['acked']:,} acked" if held else "-"
            rows.append(
                [
                    index,
                    target,
                    f(fig["rate"]),
                    f"{ratio:.0%}",
                    f(fig["p50_ms"], 1),
                    f(fig["p99_ms"], 1),
                    kept,
                ]
            )
    lines = table(
        ["round", "app", "callbacks/s", "vs bare", "p50 ms", "p99 ms", "durability"], rows
    )
    mean = sum(ratios) / len(ratios)
    why = ""
    if mean < 0.70:
        p50 = {t: _mean(r[t]["p50_ms"] for r in d["rounds"]) for t in ("bare", "sqlite")}
        why = (
            f"; missed: each callback is validated and committed with its delivery row, a "
            f"p50 of {f(p50['sqlite'], 1)} ms against {f(p50['bare'], 1)} ms for bare Flask's "
            "empty answer"
        )
    verdicts = [
        [
            "(a) ingest >= 70% of bare Flask, SQLite",
            f"{mean:.0%} (mean of rounds){why}",
            verdict(mean >= 0.70),
        ],
        ["(a) acknowledged callbacks lost", f"{lost}", verdict(lost == 0)],
    ]
    return lines, verdicts


def latency(d: dict) -> tuple[list[str], list[list]]:
    rows = []
    for key, label in (
        ("callback", "callback path, SQLite (defaults)"),
        ("callback_fast", "callback path, SQLite, WORKER_IDLE_SECONDS=0.02"),
        ("callback_postgres", "callback path, PostgreSQL (defaults)"),
    ):
        if key in d:
            s, st = d[key]["forward_ms"], d[key]
            rows.append(
                [
                    label,
                    s["n"],
                    f(s["p50"], 1),
                    f(s["p99"], 1),
                    f(s["max"], 1),
                    f(st["ack_ms"]["p50"], 1),
                    f(st["stored_to_attempt_ms"]["p50"], 1),
                ]
            )
    poll = d["poll"]
    for key, label in (
        ("ready_to_forward_ms", "poll path: result ready -> forward"),
        ("poll_answer_to_forward_ms", "poll path: poll answered -> forward"),
    ):
        s = poll[key]
        rows.append([label, s["n"], f(s["p50"], 1), f(s["p99"], 1), f(s["max"], 1), "-", "-"])
    lines = table(
        [
            "path",
            "runs",
            "p50 ms",
            "p99 ms",
            "max ms",
            "callback ack p50 ms",
            "stored -> worker picks up p50 ms",
        ],
        rows,
    )
    p99 = d["callback"]["forward_ms"]["p99"]
    dupes = sum(
        sum(d[k]["duplicates"].values())
        for k in d
        if isinstance(d[k], dict) and "duplicates" in d[k]
    )
    verdicts = [
        [
            "(b) callback path p99 < 100 ms (SQLite, defaults)",
            f"{f(p99)} ms{_latency_why(d['callback'], p99)}",
            verdict(p99 < 100),
        ]
    ]
    if "callback_postgres" in d:
        pg = d["callback_postgres"]["forward_ms"]["p99"]
        why = _latency_why(d["callback_postgres"], pg)
        verdicts.append(["(b) same on PostgreSQL", f"{f(pg)} ms{why}", verdict(pg < 100)])
    verdicts.append(
        [
            "(b) forwards lost or duplicated",
            f"{dupes} duplicated, 0 lost (every run's forward arrived)",
            verdict(dupes == 0),
        ]
    )
    return lines, verdicts


def _latency_why(path: dict, p99: float) -> str:
    """Where a missed p99's time went, at the median: the callback's answer, then the wait
    from its commit to the worker's pick-up, then the send."""
    if p99 < 100:
        return ""
    ack, pickup = path["ack_ms"]["p50"], path["stored_to_attempt_ms"]["p50"]
    return (
        f"; missed: at the median, {f(ack, 1)} ms to answer the callback and {f(pickup, 1)} ms "
        f"from its commit to the worker's pick-up, of {f(path['forward_ms']['p50'], 1)} ms; the "
        f"tail is {f(p99 / path['forward_ms']['p50'], 1)}x the median"
    )


def _memory_why(points: list[dict], relay: dict) -> str:
    """How the most grown process's RSS moved between checkpoints: still climbing, or a step
    early on that then levels off."""
    name = max(relay, key=lambda n: relay[n]["growth_percent"])
    steps = [b[name] - a[name] for a, b in itertools.pairwise(points)]
    told = ", ".join(f"{step:+.1f}" for step in steps)
    return f"; missed: {name}'s RSS from checkpoint to checkpoint (MiB): {told}"


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def burst(d: dict) -> tuple[list[str], list[list]]:
    all_202 = d["statuses"] == {"202": d["triggers"]}
    within = d["upstream_max_per_window"] <= d["run_limit"] and d["upstream_429"] == 0
    lost = d["forwards_missing"] + (d["triggers"] - d["upstream_runs"])
    twice = sum(d["upstream_admitted_per_window"]) - d["triggers"] + sum(d["duplicates"].values())
    a = d["answer_ms"]
    rows = [
        ["answers", ", ".join(f"{n} x {s}" for s, n in d["statuses"].items())],
        ["answer time p50 / p99 / max ms", f"{f(a['p50'])} / {f(a['p99'])} / {f(a['max'])}"],
        ["all answered after", f"{f(d['all_answered_s'], 1)} s"],
        ["run POSTs admitted upstream per window", str(d["upstream_admitted_per_window"])],
        ["upstream 429s", d["upstream_429"]],
        ["last run submitted after", f"{f(d['last_submitted_s'], 1)} s"],
        ["relay runs by state", str(d["relay_states"])],
        ["runs forwarded / missing", f"{d['forwarded_runs']} / {d['forwards_missing']}"],
        ["duplicate forwards", str(d["duplicates"])],
    ]
    verdicts = [
        [
            "(d) every trigger answered 202",
            f"{f(d['all_answered_s'], 1)} s for all {d['triggers']}, p99 {f(a['p99'])} ms",
            verdict(all_202),
        ],
        [
            "(d) submitted within the budget",
            f"max {d['upstream_max_per_window']} per window, {d['upstream_429']} 429s",
            verdict(within),
        ],
        [
            "(d) none lost, none twice",
            f"{lost} lost, {twice} twice",
            verdict(not lost and not twice),
        ],
    ]
    return table(["trigger burst", "value"], rows), verdicts


def memory(d: dict) -> tuple[list[str], list[list]]:
    rows = [
        [
            name,
            f(g["first_mib"], 1),
            f(g["last_mib"], 1),
            f(g["growth_mib"], 1),
            f"{g['growth_percent']:.1f}%",
            f(g["mib_per_1000_runs"], 2),
        ]
        for name, g in d["growth"].items()
    ]
    lines = table(
        [
            "process",
            f"RSS after {d['checkpoint_every']:,} runs MiB",
            f"RSS after {d['runs']:,} runs MiB",
            "growth MiB",
            "growth",
            "slope MiB / 1,000 runs",
        ],
        rows,
    )
    relay = {k: g for k, g in d["growth"].items() if k != "sandbox"}
    flat = all(g["flat"] for g in relay.values())
    worst = max(relay.values(), key=lambda g: g["growth_percent"])
    dupes = sum(d["duplicates"].values())
    lost = d["runs"] - d["forwarded_runs"]
    why = "" if flat else _memory_why(d["points"][1:], relay)
    verdicts = [
        [
            "(e) RSS flat (< 5% growth, web workers and worker)",
            f"largest growth {worst['growth_percent']:.1f}% ({f(worst['growth_mib'], 1)} MiB){why}",
            verdict(flat),
        ],
        [
            f"(e) {d['runs']:,} runs: lost / duplicated forwards",
            f"{lost} / {dupes}",
            verdict(lost == 0 and dupes == 0),
        ],
    ]
    return lines, verdicts


IDLE_LIMIT_PERCENT = 1.0


def idle(d: dict) -> tuple[list[str], list[list]]:
    rows = [
        [p["process"], p["pid"], f"{p['percent_of_core']:.2f}%"]
        for p in sorted(d["processes"], key=lambda p: -p["percent_of_core"])
    ]
    lines = table(["process", "pid", "CPU, share of one core"], rows)
    worst = max(d["processes"], key=lambda p: p["percent_of_core"])
    met = worst["percent_of_core"] < IDLE_LIMIT_PERCENT
    figure = f"{worst['percent_of_core']:.2f}% ({worst['process']}), over {d['seconds']:.0f} s"
    return lines, [["(h) every process under 1% of a core when idle", figure, verdict(met)]]
