"""The PNG plots of docs/benchmarks.md, one function per benchmark, drawn from the result files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def ingest(data: dict, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    targets = ("bare", "sqlite", "postgres")
    width = 0.8 / len(data["rounds"])
    for index, row in enumerate(data["rounds"]):
        xs = [t + index * width for t in range(len(targets))]
        ax.bar(xs, [row[t]["rate"] for t in targets], width, label=f"round {index + 1}")
    ax.set_xticks([t + width * (len(data["rounds"]) - 1) / 2 for t in range(len(targets))])
    ax.set_xticklabels(["bare Flask 204", "relay, SQLite", "relay, PostgreSQL"])
    ax.set_ylabel("callbacks accepted per second")
    ax.legend()
    return _save(fig, out / "bench_ingest.png")


def _cdf(ax, samples: list[float], label: str) -> None:
    ordered = sorted(samples)
    ax.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=label)


def latency(data: dict, out: Path) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    _cdf(left, data["callback"]["samples_ms"], "callback sent -> forward received")
    if "callback_fast" in data:
        _cdf(left, data["callback_fast"]["samples_ms"], "same, WORKER_IDLE_SECONDS=0.02")
    if "callback_postgres" in data:
        _cdf(left, data["callback_postgres"]["samples_ms"], "same, PostgreSQL")
    left.axvline(100, color="grey", linestyle=":", label="target p99 100 ms")
    left.set_xlabel("ms")
    left.set_ylabel("share of runs")
    left.legend(fontsize=8)
    _cdf(right, data["poll"]["samples_ms"], "result ready -> forward received")
    _cdf(right, data["poll"]["poll_samples_ms"], "poll answered -> forward received")
    right.set_xlabel("ms (poll path, 1 s grace, 1 s interval)")
    right.legend(fontsize=8)
    return _save(fig, out / "bench_latency.png")


def polling(data: dict, out: Path) -> list[str]:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, key in zip(axes, ("burst", "steady"), strict=True):
        rows, every = data[key]["per_run"], data[key]["best"]["mean"]["interval"]
        ax.plot([r[0] for r in rows], [r[3] for r in rows], ".", ms=2, label=f"every {every:g} s")
        ax.plot([r[0] for r in rows], [r[1] for r in rows], ".", ms=2, label="relay")
        ax.set_xscale("log")
        ax.set_xlabel(f"run duration (s), {key}")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("detection delay (s)")
    names = [_save(fig, out / "bench_polling.png")]

    curve = data["curve"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for who, marker in (("relay", "o"), ("naive", "s")):
        points = curve[who]
        ax.plot(
            [p["gets_per_run"] for p in points],
            [p["median"] for p in points],
            marker=marker,
            label="relay (GET_PRICE_SECONDS)" if who == "relay" else "fixed interval",
        )
        for p in points:
            ax.annotate(p["label"].split(" ", 1)[-1], (p["gets_per_run"], p["median"]), fontsize=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("upstream GETs per run (mean), no budget")
    ax.set_ylabel("median detection delay (s)")
    beaten = [c["label"] for c in curve["dominance"]["median"] if c["dominated_by"]]
    said = ", ".join(beaten) if beaten else "none"
    ax.set_title(f"relay points dominated by a fixed interval (median): {said}", fontsize=8)
    ax.legend(fontsize=8)
    names.append(_save(fig, out / "bench_polling_tradeoff.png"))

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for key in ("burst", "steady"):
        windows = data[key]["gets_per_window"]
        first = windows[0][0]
        ax.step(
            [(s - first) / 60 for s, _ in windows],
            [n for _, n in windows],
            where="post",
            label=f"relay, {key}",
        )
    ax.axhline(600, color="red", linestyle=":", label="budget 600 / 300 s")
    ax.set_xlabel("window start (min after the first)")
    ax.set_ylabel("GETs in the window")
    ax.legend(fontsize=8)
    names.append(_save(fig, out / "bench_polling_budget.png"))
    return names


def burst(data: dict, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    submitted = data["submitted_s"]
    ax.step(submitted, range(1, len(submitted) + 1), where="post", label="runs submitted upstream")
    ax.axhline(data["triggers"], color="grey", linestyle=":", label="triggers answered 202")
    for index, start in enumerate(data.get("window_starts_s", [])[1:]):
        label = "upstream window starts" if index == 0 else None
        ax.axvline(start, color="red", linestyle=":", linewidth=0.8, label=label)
    ax.set_xlabel(f"seconds after the burst (upstream window {data['window_seconds']:g} s)")
    ax.set_ylabel("runs")
    ax.legend(fontsize=8)
    return _save(fig, out / "bench_burst.png")


def memory(data: dict, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    points = data["points"]
    for name in data["growth"]:
        ax.plot([p["runs"] for p in points], [p[name] for p in points], marker="o", label=name)
    ax.set_xlabel("runs completed (triggered, called back, forwarded)")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return _save(fig, out / "bench_memory.png")
