"""The tables: runs, callbacks, upstream calls, webhooks, deliveries, attempts, budget."""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Times are unix seconds (float): one type that compares the same on SQLite and PostgreSQL.
runs = Table(
    "runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),  # stored_action | action_run
    Column("stored_action_id", String(64)),
    Column("action", String(255)),
    Column("authentication", String(255)),
    Column("request_json", Text, nullable=False),  # what is sent upstream, less callback_url
    Column("idempotency_id", String(64), nullable=False),
    Column("callback_url", Text),  # the client's own forward target for this run
    Column("metadata_json", Text, nullable=False, default="{}"),
    Column("state", String(16), nullable=False),
    Column("upstream_run_id", String(64)),
    Column("source", String(16)),  # callback | poll, once settled by a result
    Column("result_json", Text),
    Column("reason", Text),
    Column("refusal_status", Integer),
    Column("refusal_json", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("submitted_at", Float),
    Column("settled_at", Float),
    Column("next_submit_at", Float),
    Column("next_poll_at", Float),
    Column("submit_attempts", Integer, nullable=False, default=0),
    Column("poll_count", Integer, nullable=False, default=0),
    Column("not_found_count", Integer, nullable=False, default=0),
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    UniqueConstraint("kind", "idempotency_id", name="uq_runs_idempotency"),
)
Index("ix_runs_submit_due", runs.c.state, runs.c.next_submit_at)
Index("ix_runs_poll_due", runs.c.state, runs.c.next_poll_at)
Index("ix_runs_created", runs.c.created_at, runs.c.id)
Index("ix_runs_upstream", runs.c.upstream_run_id)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("runs.id"), nullable=False, index=True),
    Column("received_at", Float, nullable=False),
    Column("verdict", String(16), nullable=False),  # settled | waiting | duplicate | stale
    Column("status", String(16)),
    Column("body", Text, nullable=False),
    Column("headers_json", Text, nullable=False),
    Column("signature_verified", Boolean, nullable=False, default=False),
)

upstream_calls = Table(
    "upstream_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), index=True),
    Column("operation", String(32), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("status", Integer),
    Column("at", Float, nullable=False),
    Column("latency_ms", Float),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("stored_action_ids_json", Text, nullable=False, default="[]"),
    Column("statuses_json", Text, nullable=False, default="[]"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("origin", String(8), nullable=False),  # env | api
    Column("disabled_reason", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("run_id", String(36), ForeignKey("runs.id"), nullable=False, index=True),
    Column("webhook_id", String(36)),  # null for the run's own callback_url
    Column("target_url", Text, nullable=False),
    Column("event_id", String(64), nullable=False),  # the webhook-id header, stable on retries
    Column("event_type", String(32), nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes sent on every attempt
    Column("state", String(12), nullable=False),  # pending | delivered | failed | gone
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float),
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    UniqueConstraint("run_id", "target_url", "event_type", name="uq_delivery_target"),
)
Index("ix_deliveries_due", deliveries.c.state, deliveries.c.next_attempt_at)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("attempted_at", Float, nullable=False),
    Column("status", Integer),
    Column("error", Text),
    Column("latency_ms", Float, nullable=False),
    Column("response_excerpt", Text),
)

rate_budget = Table(
    "rate_budget",
    metadata,
    Column("bucket", String(16), primary_key=True),  # get | run
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    Column("used", Integer, nullable=False),
    Column("limit", Integer, nullable=False),
    Column("blocked_until", Float, nullable=False, default=0.0),
)


def create_schema(engine) -> None:
    """Create missing tables (idempotent)."""
    metadata.create_all(engine, checkfirst=True)
