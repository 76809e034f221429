"""`relay run` / `make run`: gunicorn and one worker as child processes, stopped together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


def web_command() -> list[str]:
    command = [sys.executable, "-m", "gunicorn"]
    if GUNICORN_CONF.exists():
        command += ["-c", str(GUNICORN_CONF)]
    return [*command, "app:create_app()"]


def upgrade_schema() -> bool:
    """A fresh checkout just works: `make run` migrates its database like a release step would."""
    from app.config.settings import load_settings
    from app.store.schema_version import SchemaNotCurrent, upgrade

    try:
        revision = upgrade(load_settings().database_url)
    except SchemaNotCurrent as err:
        print(f"relay: {err}", file=sys.stderr)
        return False
    print(f"database schema is up to date (at {revision})")
    return True


def run_web_and_worker() -> int:
    if not upgrade_schema():
        return 1
    children = [
        subprocess.Popen(web_command()),
        subprocess.Popen([sys.executable, "-m", "app.cli", "worker"]),
    ]
    stopping = False

    def _stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
    return max(child.returncode or 0 for child in children)
