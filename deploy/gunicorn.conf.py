"""Production gunicorn settings: gthread workers, bind 0.0.0.0:$PORT, JSON logs, shared metrics."""

import os

from app.observability.logs import gunicorn_logconfig

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's own lines and the app's share one stdout handler: JSON unless LOG_FORMAT=text.
logconfig_dict = gunicorn_logconfig()
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
    """Before any worker forks: the schema is current, the histograms' dir holds no dead process."""
    from app.cli import exit_unless_schema_current

    # Once, in the master: a stale schema stops the start with one line, not with a traceback
    # per worker (workers build the app after forking).
    exit_unless_schema_current()
    from app.observability.event_metrics import prepare_multiproc_dir

    path = prepare_multiproc_dir()
    if path:
        server.log.info("metrics: processes share histograms through %s", path)
    elif workers > 1:
        server.log.warning(
            "PROMETHEUS_MULTIPROC_DIR is unset: /metrics histograms count one process of %d",
            workers,
        )


def child_exit(server, worker):
    from app.observability.event_metrics import mark_process_dead

    mark_process_dead(worker.pid)
