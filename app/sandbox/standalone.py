"""The sandbox on its own port (what `relay sandbox --port N` runs): blocking, threaded werkzeug."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple

from app.sandbox import URL_PREFIX, create_sandbox_app
from app.sandbox.http_answers import EXTENSION_KEY

log = logging.getLogger(__name__)


def serve(host: str, port: int, database_url: str) -> None:
    """Serve http://host:port/sandbox on `database_url` until interrupted or terminated.
    Several servers (or relay web workers) may share one database: they see the same runs."""
    env = {**os.environ, "SANDBOX_DATABASE_URL": database_url}
    app = create_sandbox_app(env)
    # Every start begins from SANDBOX_* (or the defaults), not from the last session's knobs.
    app.extensions[EXTENSION_KEY].reset_knobs()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (a service manager, a test) then unwinds through `finally` like Ctrl-C.
        signal.signal(signal.SIGTERM, _exit_on_signal)
    log.warning("SANDBOX: simulated upstream at http://%s:%s%s", host, port, URL_PREFIX)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        app.extensions[EXTENSION_KEY].close()


def _exit_on_signal(signum, _frame) -> None:
    sys.exit(128 + signum)
