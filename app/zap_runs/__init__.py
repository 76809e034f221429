"""Zap Runs watching: poll GET /v2/zap-runs for configured watches and forward what changed."""
