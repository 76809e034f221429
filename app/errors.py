"""Domain exceptions (placeholder, being written)."""
