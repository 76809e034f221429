"""Forwarding: targets and their health, run and ops events, SSRF guard, signing, the delivery
engine (attempts, deadlines, retry schedule, circuit breaker), listing and recovery."""
