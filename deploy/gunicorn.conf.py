"""Production gunicorn settings: gthread workers, bind 0.0.0.0:$PORT, access log to stdout."""

import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
graceful_timeout = 30
timeout = 60
keepalive = 5
# The relay builds callback URLs from PUBLIC_BASE_URL, never from the Host header. Gunicorn
# itself trusts no proxy header; the app honours X-Forwarded-* for TRUSTED_PROXIES hops only.
forwarded_allow_ips = ""

control_socket_disable = True
# Callback URLs carry a per-run secret token: the access log shows it redacted.
logger_class = "app.access_log.RedactingLogger"
