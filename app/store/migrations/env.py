"""Alembic's entry point: migrate the connection that app.store.schema_version hands over."""

from alembic import context

from app.store.tables import metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _connection():
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        # Migrations run in the runner's transaction (and PostgreSQL lock); never on their own.
        raise RuntimeError("run migrations with `relay db upgrade`, not the alembic command")
    return connection


run_migrations(_connection())
