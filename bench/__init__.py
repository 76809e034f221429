"""Benchmarks: scripts that start real processes, print figures and write docs/benchmarks.md."""
