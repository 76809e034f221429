"""The sandbox's own tables: runs, keys, callbacks, rate windows, knobs, signing key, zap runs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from app.store.engine import write

# Apart from the relay's metadata: the sandbox usually lives in its own database file, and
# every table is prefixed so the two can share one database without clashing.
metadata = MetaData()

# Times are unix seconds (float), as in the relay's own tables.
runs = Table(
    "sandbox_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),  # stored_action | action_run
    Column("stored_action_id", String(36)),
    Column("created_at", Float, nullable=False),
    Column("done_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # the final status, decided at creation
    Column("result_json", Text, nullable=False),  # the exact 200 answer body once done
)
Index("ix_sandbox_runs_created", runs.c.created_at)

idempotency = Table(
    "sandbox_idempotency",
    metadata,
    Column("stored_action_id", String(36), primary_key=True),
    Column("idempotency_id", String(36), primary_key=True),
    Column("run_id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
)

callbacks = Table(
    "sandbox_callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),  # a run's callbacks go out strictly in this order
    Column("phase", String(8), nullable=False),  # waiting | final
    Column("duplicate", Boolean, nullable=False, default=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("due_at", Float, nullable=False),
    Column("state", String(8), nullable=False),  # pending | sent | failed | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64)),
    Column("lease_until", Float),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("sent_at", Float),
    UniqueConstraint("run_id", "seq", name="uq_sandbox_callbacks_seq"),
)
Index("ix_sandbox_callbacks_due", callbacks.c.state, callbacks.c.due_at)

# Per token, as upstream counts: each token (named by its fingerprint, never stored itself)
# has its own windows and limit. ("sandbox_windows" held one set for every token.)
windows = Table(
    "sandbox_token_windows",
    metadata,
    Column("token", String(16), primary_key=True),  # app.accounts.crypto.fingerprint
    Column("bucket", String(8), primary_key=True),  # get | run
    Column("window_start", Float, primary_key=True),
    Column("limit", Integer, nullable=False),  # the token's limit then; -1: exempt
    Column("admitted", Integer, nullable=False, default=0),
    Column("throttled", Integer, nullable=False, default=0),  # answered 429
    Column("unavailable", Integer, nullable=False, default=0),  # answered 503
    Column("unauthorized", Integer, nullable=False, default=0),  # answered 401
)

# Tokens an admin call revoked: they answer 401 until restored (or a reset).
revoked_tokens = Table(
    "sandbox_revoked_tokens",
    metadata,
    Column("token", String(16), primary_key=True),  # fingerprint
    Column("revoked_at", Float, nullable=False),
)

# Only knobs changed at runtime are stored: every process adds them to its own
# defaults-from-environment, so a reset is simply deleting the rows.
knob_overrides = Table(
    "sandbox_knobs",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value_json", Text, nullable=False),
)

signing_keys = Table(
    "sandbox_signing_keys",
    metadata,
    Column("slot", String(16), primary_key=True),  # always "current"
    Column("kid", String(64), nullable=False),
    Column("private_pem", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Partner API zap runs. Times are whole microseconds since the epoch, so a from_date of
# '...10.360000Z' compares exactly with a run that started then.
zap_runs = Table(
    "sandbox_zap_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("zap_id", BigInteger, nullable=False),
    Column("zap_title", Text),
    Column("status", String(16), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger),
    Column("steps_json", Text),  # NULL: one step with the run's own status and start
    Column("data_in_json", Text, nullable=False),
    Column("data_out_json", Text, nullable=False),
    # What `search` looks in, casefolded in Python: SQLite's lower() knows only ASCII.
    Column("search_text", Text, nullable=False),
    # Runs made by the zap_runs_per_minute knob finish on their own: when, and how.
    Column("finish_us", BigInteger),
    Column("final_status", String(16)),
)
Index("ix_sandbox_zap_runs_start", zap_runs.c.start_us, zap_runs.c.id)
Index("ix_sandbox_zap_runs_finish", zap_runs.c.finish_us)

# Named numbers shared by every process: zap-runs list calls, and how far the
# zap_runs_per_minute knob has made runs.
counters = Table(
    "sandbox_counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)


def create_schema(engine: Engine) -> None:
    """Create missing tables; inside one write transaction so racing processes take turns."""
    with write(engine) as conn:
        metadata.create_all(conn, checkfirst=True)


def insert_if_absent(conn: Connection, table: Table, **values):
    """An INSERT ... ON CONFLICT DO NOTHING statement, for SQLite and PostgreSQL alike."""
    return dialect_insert(conn, table).values(**values).on_conflict_do_nothing()


def dialect_insert(conn: Connection, table: Table):
    """The dialect's own insert(), which knows ON CONFLICT (the generic one does not)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
