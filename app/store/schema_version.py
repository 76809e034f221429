"""The schema's Alembic revision: upgrade the database to head, or refuse to run on a stale one."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, column, inspect, select, table, text

from app.store.engine import build_engine, is_sqlite

# Alembic announces each of its built-in plugins at INFO as it is imported: noise in every log.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _not_dialect_chatter(record: logging.LogRecord) -> bool:
    """At every start alembic says which dialect it drives and how ("Context impl SQLiteImpl.",
    "Will assume non-transactional DDL."); only its "Running upgrade ..." lines tell a user
    anything. They go through the process's own handler, in its one format."""
    return not str(record.msg).startswith(("Context impl", "Will assume"))


logging.getLogger("alembic.runtime.migration").addFilter(_not_dialect_chatter)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from alembic.util import CommandError  # noqa: E402

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run `relay db upgrade`"
# Any constant will do: it only has to be the same in every process that migrates.
PG_MIGRATION_LOCK = 7_242_017


class SchemaNotCurrent(RuntimeError):
    """The database is not at this code's head revision; the message is one line to show."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings, built here so no alembic.ini is needed and any cwd works."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = table("alembic_version", column("version_num"))
    return conn.execute(select(versions.c.version_num)).scalar()


def upgrade(target: Engine | str, revision: str = "head") -> str:
    """Migrate up to `revision`; the revision reached."""
    with _owned_engine(target) as engine, _migration_connection(engine) as conn:
        at = current_revision(conn)
        if at is not None and not _known(at):
            raise SchemaNotCurrent(_newer_than_code(at))
        command.upgrade(alembic_config(conn), revision)
        return current_revision(conn)


def downgrade(target: Engine | str, revision: str) -> str | None:
    """Migrate down to `revision` ("base": no relay tables left); the revision reached."""
    with _owned_engine(target) as engine, _migration_connection(engine) as conn:
        command.downgrade(alembic_config(conn), revision)
        return current_revision(conn)


def check_current(engine: Engine) -> str:
    """The database's revision when it is head; SchemaNotCurrent with one clear line otherwise."""
    head = head_revision()
    with engine.connect() as conn:
        at = current_revision(conn)
    if at == head:
        return at
    if at is not None and not _known(at):
        raise SchemaNotCurrent(_newer_than_code(at))
    raise SchemaNotCurrent(
        f"database schema is not up to date (at {at or 'none'}, need {head}): {UPGRADE_HINT}"
    )


def check_url(url: str) -> str:
    """check_current() with a short-lived engine, for a process about to fork."""
    with _owned_engine(url) as engine:
        return check_current(engine)


def _newer_than_code(at: str) -> str:
    return (
        f"database schema is newer than this relay (at {at}, this release knows up to "
        f"{head_revision()}): deploy the release that migrated it"
    )


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


@contextlib.contextmanager
def _owned_engine(target: Engine | str) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = build_engine(target, pool_size=1)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """One transaction for every step, so a failed upgrade leaves the database as it was."""
    sqlite = is_sqlite(engine)
    with engine.connect() as conn:
        if sqlite:
            # A batch-mode rebuild drops and recreates a table: SQLite's own procedure turns
            # foreign keys off first, and the pragma is ignored inside a transaction.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if not sqlite:
                    # Two release steps at once (several machines) take turns.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
                yield conn
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left rows with broken references")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
