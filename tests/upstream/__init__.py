"""Tests of app.upstream: client, headers, rate budget, gateway."""
