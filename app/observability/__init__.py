"""Observability: log lines and their run context, the redacted access log, and /metrics."""
