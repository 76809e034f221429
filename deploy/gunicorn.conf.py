"""gunicorn settings: gthread workers on BIND_HOST:PORT, the relay's log lines, shared metrics.

Every value comes from the relay's Settings, so a bad one stops the start with one line.
"""

import functools
import logging
import os
import signal
import sys

from gunicorn.workers.gthread import ThreadWorker

from app.config.settings import ConfigError, load_settings
from app.observability.logs import gunicorn_logconfig

try:
    settings = load_settings()
    # gunicorn's own lines and the app's share one stdout handler: JSON unless LOG_FORMAT=text.
    logconfig_dict = gunicorn_logconfig()
except ConfigError as err:
    # Not gunicorn's "Failed to read config file" and a traceback: one line, as `relay` says it.
    print(f"relay: configuration error: {err}", file=sys.stderr)
    raise SystemExit(2) from None

_host = f"[{settings.bind_host}]" if ":" in settings.bind_host else settings.bind_host
# Loopback in sandbox mode (open API, open knobs, no SSRF guard), every interface in live mode.
bind = f"{_host}:{settings.port}"
worker_class = "gthread"
workers = settings.web_concurrency
threads = settings.web_threads
accesslog = "-"
errorlog = "-"
loglevel = settings.log_level.lower()
graceful_timeout = 30
timeout = 60
keepalive = 5
# The relay builds callback URLs from PUBLIC_BASE_URL, never from the Host header. Gunicorn
# itself trusts no proxy header; the app honours X-Forwarded-* for TRUSTED_PROXIES hops only.
forwarded_allow_ips = ""

control_socket_disable = True
# Callback URLs carry a per-run secret token: the access log shows it redacted.
logger_class = "app.observability.access_log.RedactingLogger"


def on_starting(server):
    """Once, in the master, before it binds or forks: the port is free, the schema is current,
    the sandbox's knobs start from SANDBOX_*, the histograms' dir holds no dead process."""
    from app.cli.startup import exit_unless_port_free, exit_unless_schema_current

    if not _inherits_sockets(server):
        # One line and exit 2 at once, instead of five retries a second apart.
        exit_unless_port_free(settings)
    # A stale schema stops the start with one line, not with a traceback per worker.
    exit_unless_schema_current(settings)
    if settings.sandbox:
        _reset_sandbox_knobs(server)
    from app.observability.event_metrics import prepare_multiproc_dir

    path = prepare_multiproc_dir()
    if path:
        server.log.info("metrics: processes share histograms through %s", path)
    elif workers > 1:
        server.log.warning(
            "PROMETHEUS_MULTIPROC_DIR is unset: /metrics histograms count one process of %d",
            workers,
        )
    _announce(server)


def post_worker_init(worker):
    """A terminal's Ctrl+C reaches every process of its group: the master then stops each
    worker with one signal of its own (SIGQUIT), so the worker ignores the SIGINT. That SIGQUIT
    is acted on in the main loop, not inside the signal handler (see _quit_from_main_loop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if isinstance(worker, ThreadWorker):
        signal.signal(signal.SIGQUIT, functools.partial(_quit_from_main_loop, worker))


def _quit_from_main_loop(worker, signum, _frame):
    """gthread's own SIGQUIT handler shuts its thread pool down inside the handler, which takes
    the pool's lock. The main thread holds that lock in every submit() (each new connection or
    kept-alive request), so a signal landing there made the worker wait on itself until the
    master's SIGKILL 30 s later (cpython#121649). Here the handler only flags the stop and wakes
    the main loop, as gthread's SIGTERM handler does; the loop then quits holding no lock."""
    worker.alive = False
    worker.method_queue.defer(worker.handle_quit, signum, None)


def worker_exit(server, worker):
    """In the worker, as it leaves: the sandbox's callback dispatcher (sandbox mode) stops
    before the interpreter does, instead of starting sends while it shuts down."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None) or {}
    sandbox = extensions.get("sandbox")
    if sandbox is not None:
        sandbox.close()


def child_exit(server, worker):
    from app.observability.event_metrics import mark_process_dead

    mark_process_dead(worker.pid)


def _inherits_sockets(server):
    """A re-executed master (USR2), systemd's sockets or SO_REUSEPORT: a bound port is ours."""
    from gunicorn import systemd

    inherited = server.master_pid or server.LISTENERS or systemd.listen_fds(False)
    return bool(inherited or server.cfg.reuse_port)


def _reset_sandbox_knobs(server):
    from app.cli.startup import database_problem
    from app.sandbox.service import Sandbox
    from app.store.engine import DatabaseError

    sandbox = Sandbox(settings.sandbox_database_url, os.environ)
    try:
        sandbox.reset_knobs()
    except DatabaseError as err:
        url = settings.sandbox_database_url
        server.log.warning("%s", database_problem(url, err, "SANDBOX_DATABASE_URL"))
    finally:
        sandbox.close()


def _announce(server):
    """The start-up banner, unless `relay run` started this gunicorn: it prints its own."""
    from app.cli.banner import banner
    from app.cli.devserver import SUPERVISED_NAME

    if server.cfg.proc_name == SUPERVISED_NAME:
        return
    worker = "not started by gunicorn: run `relay worker` beside it"
    logging.getLogger("relay").info("%s", banner(settings, worker))
