"""(h) Idle CPU: `relay run` as `make run` starts it (sandbox mode, SQLite), with no traffic;
the share of one core each of its processes uses."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.common import child_pids, quick, save_result
from tests.support.processes import Child, free_port, python_cmd, wait_until_up

# Past the start-up and the SQLite commit watch's quiet seconds (it then slows down).
WARM_SECONDS = 20.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += child_pids(current)
    return found


def command_of(pid: int) -> str:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    text = " ".join(a.decode(errors="replace") for a in args if a)
    if "gunicorn" in text:
        return "gunicorn"
    return "relay worker" if " worker" in text else "relay run"


def run() -> dict:
    span = 20.0 if quick() else 60.0
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as work:
        port = free_port()
        # Only what `make run` sets: sandbox mode (no token), the defaults for everything else.
        env = {"PATH": os.environ["PATH"], "PORT": str(port), "RELAY_INSTANCE_DIR": work}
        child = Child("relay-run", python_cmd("-m", "app.cli", "run"), env, Path(work), False)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", 60, proc=child.proc)
            time.sleep(WARM_SECONDS)
            pids = process_tree(child.proc.pid)
            before = {pid: cpu_seconds(pid) for pid in pids}
            started = time.monotonic()
            time.sleep(span)
            elapsed = time.monotonic() - started
            used = {pid: cpu_seconds(pid) - before[pid] for pid in pids}
            names = {pid: command_of(pid) for pid in pids}
        finally:
            child.stop()
    processes = [
        {"process": names[pid], "pid": pid, "percent_of_core": 100.0 * used[pid] / elapsed}
        for pid in pids
    ]
    return {"seconds": elapsed, "warm_seconds": WARM_SECONDS, "processes": processes}


if __name__ == "__main__":
    save_result("idle", run())
