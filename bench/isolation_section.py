"""The markdown and plot of (f) Isolation: slow and dead subscribers next to a healthy one."""

from __future__ import annotations

from pathlib import Path

from bench.charts import _save, plt
from bench.sections import f, table, verdict

HEALTHY_P99_S = 1.0
RATIO_LIMIT = 1.5
FANOUT_TARGET = 500.0


def isolation(d: dict) -> tuple[list[str], list[list]]:
    clean, bad, fan = d["clean"]["latency_s"], d["bad"]["latency_s"], d["fanout"]
    ratio = bad["p99"] / clean["p99"] if clean["p99"] else None
    duplicates = d["clean"]["duplicates"] + d["bad"]["duplicates"] + fan["duplicates"]
    overlap = d["bad"]["max_overlap"]
    rate = fan["forwards_per_second"] or 0.0
    rows = [
        ["runs per set", d["runs"]],
        ["healthy forward latency, alone: p50 / p99 / max ms", _ms(clean)],
        ["the same beside a black hole, a 14 s target and a dripper", _ms(bad)],
        ["p99 ratio (beside bad targets / alone)", f(ratio, 2) if ratio else "n/a"],
        ["most sends of one event open at once at a bad target", overlap],
        [
            f"fan-out: {fan['expected']} forwards to 50 targets answering in 200 ms",
            f"{f(rate)} per second ({fan['arrived']} arrived)",
        ],
        ["limit the in-flight cap allows", f"{f(fan['cap_limit_per_second'])} per second"],
        ["duplicate sends (all sets)", duplicates],
    ]
    verdicts = [
        [
            "(f) healthy p99 <= 1 s and <= 1.5x alone, beside bad targets",
            f"{f(bad['p99'] * 1000)} ms, {f(ratio, 2) if ratio else 'n/a'}x",
            verdict(bad["p99"] <= HEALTHY_P99_S and ratio is not None and ratio <= RATIO_LIMIT),
        ],
        ["(f) fan-out >= 500 forwards/s, one worker", f"{f(rate)}/s", verdict(rate >= 500)],
        ["(f) duplicate sends", f"{duplicates}", verdict(duplicates == 0 and overlap <= 1)],
    ]
    return table(["isolation", "value"], rows), verdicts


def _ms(s: dict) -> str:
    return f"{f(s['p50'] * 1000)} / {f(s['p99'] * 1000)} / {f(s['max'] * 1000)}"


def isolation_chart(d: dict, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    stats = ("p50", "p90", "p99", "max")
    for index, (name, label) in enumerate((("clean", "alone"), ("bad", "beside bad targets"))):
        values = [d[name]["latency_s"][s] * 1000 for s in stats]
        ax.bar([i + index * 0.4 for i in range(len(stats))], values, 0.4, label=label)
    ax.set_xticks([i + 0.2 for i in range(len(stats))])
    ax.set_xticklabels(stats)
    ax.set_ylabel("healthy target: settled to forward (ms)")
    ax.legend()
    return _save(fig, out / "bench_isolation.png")
