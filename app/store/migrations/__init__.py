"""Alembic migrations of the relay's own database; run them with `relay db upgrade`."""
