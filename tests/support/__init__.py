"""Helpers shared by the relay's tests: free ports, child processes, a verifying receiver."""
