"""`relay run` / `make run`: gunicorn and one worker as child processes, stopped together."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.cli.banner import banner
from app.cli.startup import database_problem, exit_unless_port_free
from app.config.settings import Settings, load_settings

log = logging.getLogger("relay")
GUNICORN_CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
# gunicorn's proc_name under `relay run`, which prints the one banner (deploy/gunicorn.conf.py).
SUPERVISED_NAME = "relay-run"
# A terminal's Ctrl+C or Ctrl+\, a kill, a closed terminal: each stops web and worker alike.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
PR_SET_PDEATHSIG = 1
# gunicorn's graceful_timeout (30 s) for requests in flight, and a margin.
STOP_DEADLINE_SECONDS = 35.0
LISTEN_DEADLINE_SECONDS = 60.0


def web_command() -> list[str]:
    command = [sys.executable, "-m", "gunicorn"]
    if GUNICORN_CONF.exists():
        command += ["-c", str(GUNICORN_CONF)]
    return [*command, "--name", SUPERVISED_NAME, "app:create_app()"]


def upgrade_schema(settings: Settings | None = None) -> bool:
    """A fresh checkout just works: `make run` migrates its database like a release step would."""
    from app.store.engine import DatabaseError
    from app.store.schema_version import SchemaNotCurrent, upgrade

    settings = settings or load_settings()
    try:
        revision = upgrade(settings.database_url)
    except SchemaNotCurrent as err:
        print(f"relay: {err}", file=sys.stderr)
        return False
    except DatabaseError as err:
        print(f"relay: {database_problem(settings.database_url, err)}", file=sys.stderr)
        return False
    log.info("database schema is up to date (at %s)", revision)
    return True


def run_web_and_worker(settings: Settings) -> int:
    """Check the port, migrate, start the web and, once it listens, the worker; then wait."""
    stop = threading.Event()
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda _signum, _frame: stop.set())
    exit_unless_port_free(settings)  # before anything starts, not after five retries
    if not upgrade_schema(settings):
        return 1
    if stop.is_set():  # Ctrl+C during the migration
        return 0
    children: dict[str, subprocess.Popen] = {}
    try:
        children["web"] = _spawn(web_command())
        if not _wait_listening(children["web"], settings, stop):
            return 0 if stop.is_set() else 1  # gunicorn said why in its own line
        children["worker"] = _spawn([sys.executable, "-m", "app.cli", "worker"])
        worker = (
            f"relay worker (pid {children['worker'].pid}), "
            f"{settings.worker_threads} upstream threads (WORKER_THREADS)"
        )
        log.info("%s", banner(settings, worker))
        return _wait(children, stop)
    finally:
        _stop_all(children.values())


def _spawn(command: list[str]) -> subprocess.Popen:
    # Its own process group: the terminal's Ctrl+C reaches this process only, which stops the
    # children with SIGTERM (gunicorn's graceful stop). Both getting SIGINT too would make
    # gunicorn's workers receive two stop signals, which can deadlock a gthread worker.
    on_linux = sys.platform.startswith("linux")
    return subprocess.Popen(
        command, process_group=0, preexec_fn=_stop_with_parent if on_linux else None
    )


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when `relay run` dies, even by SIGKILL, so that no
    gunicorn is left holding the port."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_listening(web: subprocess.Popen, settings: Settings, stop: threading.Event) -> bool:
    host = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::") else settings.bind_host
    deadline = time.monotonic() + LISTEN_DEADLINE_SECONDS
    while time.monotonic() < deadline and not stop.is_set() and web.poll() is None:
        try:
            socket.create_connection((host, settings.port), timeout=0.5).close()
            return True
        except OSError:
            stop.wait(0.05)
    return False


def _wait(children: dict[str, subprocess.Popen], stop: threading.Event) -> int:
    while not stop.wait(0.2):
        for name, child in children.items():
            if child.poll() is not None:
                log.error("the %s exited with code %s: stopping everything", name, child.returncode)
                return child.returncode or 1
    return 0


def _stop_all(children) -> None:
    alive = [child for child in children if child.poll() is None]
    for child in alive:
        child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_DEADLINE_SECONDS
    for child in alive:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error(
                "pid %d did not stop within %.0f s: killing it", child.pid, STOP_DEADLINE_SECONDS
            )
            os.killpg(child.pid, signal.SIGKILL)  # with gunicorn's own workers
            child.wait()
