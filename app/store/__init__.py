"""The store: SQLAlchemy Core tables and the repositories (the only SQL in the relay)."""
