"""The markdown and plot of (g) Retention: bytes per run, and the database size in a soak."""

from __future__ import annotations

from pathlib import Path

from bench.charts import _save, plt
from bench.sections import f, table, verdict

FLAT_PERCENT = 10.0  # "flat": the size at the end within this of the first steady sample
KINDS = (("sqlite", "SQLite"), ("postgres", "PostgreSQL"))
MB = 1e6


def steady(soak: dict) -> list[dict]:
    """The samples once two windows have passed: the oldest runs purged, the size settled."""
    return [p for p in soak["points"] if p["at_s"] >= 2 * soak["window_s"]]


def growth_percent(soak: dict, key: str = "used") -> float:
    points = steady(soak)
    first, last = points[0][key], points[-1][key]
    return (last - first) / first * 100.0


def retention(d: dict) -> tuple[list[str], list[list]]:
    sizing, soak = d["sizing"], d["soak"]
    size_rows = [
        [
            name,
            f"{sizing[kind]['runs']:,}",
            f(sizing[kind]["bytes_per_run"]),
            f(sizing[kind]["written_bytes_per_run"]),
            f(sizing[kind]["bytes_per_run"] * 200 * 288 * 30 / 1e9, 1),
            f"{sizing[kind]['batch_limit']} runs: "
            + " / ".join(f(b["ms"]) for b in sizing[kind]["batches"]),
        ]
        for kind, name in KINDS
    ]
    lines = table(
        [
            "database",
            "runs (3 targets each)",
            "bytes per run",
            "as written, before VACUUM",
            "GB for 30 days at 200 runs / 5 min",
            "purge batches (ms each)",
        ],
        size_rows,
    )
    soak_rows = []
    for kind, name in KINDS:
        s = soak[kind]
        first, last = steady(s)[0], steady(s)[-1]
        unpurged = sizing[kind]["bytes_per_run"] * last["triggered"]
        soak_rows.append(
            [
                name,
                f"{last['triggered']:,} at {f(s['rate'])}/s",
                f"{first['runs']:,} / {last['runs']:,}",
                f"{f(first['used'] / MB, 2)} / {f(last['used'] / MB, 2)}",
                f"{f(first['disk'] / MB, 2)} / {f(last['disk'] / MB, 2)}",
                f(unpurged / MB, 1),
                f"{f(s['purged'].get('runs', 0))} runs, {f(sum(s['purged'].values()))} rows",
                s["vacuum"],
            ]
        )
    window = soak["sqlite"]["window_s"]
    lines += [
        f"Soak: a {f(window)} s retention window; sizes at the first sample past two windows "
        "and at the end.",
        "",
        *table(
            [
                "database",
                "runs triggered",
                "runs in the database",
                "tables MB",
                "on disk MB",
                "tables MB without retention (estimate)",
                "purged (relay_purged_rows_total)",
                "vacuum",
            ],
            soak_rows,
        ),
    ]
    verdicts = []
    for kind, name in KINDS:
        grew, points = growth_percent(soak[kind]), steady(soak[kind])
        verdicts.append(
            [
                f"(g) {name}: database size flat while runs flow (< {f(FLAT_PERCENT)}% growth)",
                f"{grew:+.1f}% over {f(points[-1]['at_s'] - points[0]['at_s'])} s",
                verdict(grew < FLAT_PERCENT and soak[kind]["failed"] == 0),
            ]
        )
    return lines, verdicts


def retention_chart(d: dict, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for kind, name in KINDS:
        points = d["soak"][kind]["points"]
        times = [p["at_s"] for p in points]
        line = ax.plot(times, [p["used"] / MB for p in points], marker="o", label=name)[0]
        per_run = d["sizing"][kind]["bytes_per_run"]
        ax.plot(
            times,
            [p["triggered"] * per_run / MB for p in points],
            linestyle="--",
            color=line.get_color(),
            label=f"{name} without retention (estimate)",
        )
    ax.set_xlabel("seconds of steady load")
    ax.set_ylabel("relay tables (MB)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return _save(fig, out / "bench_retention.png")
