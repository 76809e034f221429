"""The histograms' multiprocess dir at gunicorn's start: made, and emptied of dead processes."""

import os
import subprocess
import sys

from app.observability.event_metrics import prepare_multiproc_dir


def test_start_keeps_live_processes_files_and_drops_dead_ones(tmp_path, monkeypatch):
    path = tmp_path / "prometheus" / "nested"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(path))
    assert prepare_multiproc_dir() == str(path) and path.is_dir()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    live, dead = path / f"histogram_{os.getpid()}.db", path / f"histogram_{gone}.db"
    live.write_bytes(b"x")
    dead.write_bytes(b"x")
    (path / "notes.txt").write_text("not ours")
    prepare_multiproc_dir()
    assert sorted(p.name for p in path.iterdir()) == sorted([live.name, "notes.txt"])


def test_without_the_variable_nothing_is_made(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert prepare_multiproc_dir() is None
