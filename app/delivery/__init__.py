"""Forwarding: targets, SSRF guard, Standard Webhooks signing, attempts, retry schedule."""
