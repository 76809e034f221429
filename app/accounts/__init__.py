"""Zapier accounts: upstream credentials (encrypted at rest), their budgets and their state."""
