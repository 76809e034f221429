"""Forwarding: targets, the SSRF guard, Standard Webhooks signing, attempts and the retry schedule."""
