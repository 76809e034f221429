"""The tables: runs, callbacks, upstream calls, webhooks, deliveries, attempts, budget."""

from sqlalchemy import (
    BigInteger,
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
    # The Zapier account (its token and budget) the run is submitted and polled with.
    Column("account_id", String(64), nullable=False, server_default="default"),
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
    Column("throttle_count", Integer, nullable=False, default=0, server_default="0"),
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    # The last poll upstream answered "still processing": a duration's lower bound.
    Column("last_pending_at", Float),
    UniqueConstraint("kind", "idempotency_id", name="uq_runs_idempotency"),
)
Index("ix_runs_submit_due", runs.c.state, runs.c.next_submit_at)
Index("ix_runs_poll_due", runs.c.state, runs.c.next_poll_at)
Index("ix_runs_created", runs.c.created_at, runs.c.id)
Index("ix_runs_upstream", runs.c.upstream_run_id)
# The console's last-24-hour views and retention read by these times; runs list by account.
Index("ix_runs_settled", runs.c.settled_at)
Index("ix_runs_account", runs.c.account_id, runs.c.created_at)
# The latest runs of one stored action (or v2 action): its learned poll schedule.
Index("ix_runs_stored_action_submitted", runs.c.stored_action_id, runs.c.submitted_at)
Index("ix_runs_action_submitted", runs.c.action, runs.c.submitted_at)

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
Index("ix_upstream_calls_at", upstream_calls.c.at)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("stored_action_ids_json", Text, nullable=False, default="[]"),
    Column("statuses_json", Text, nullable=False, default="[]"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("origin", String(8), nullable=False),  # env | api | ops
    Column("disabled_reason", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # After a rotation the old secret signs too, until this time (the overlap window).
    Column("previous_secret", String(128)),
    Column("previous_secret_until", Float),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    # At most one subject: a relay run, or a Zap run's status change seen by a watch; an
    # operational event (OPS_WEBHOOK_URLS) has neither.
    Column("run_id", String(36), ForeignKey("runs.id"), nullable=True, index=True),
    Column("zap_event_id", String(36), ForeignKey("zap_run_events.id"), nullable=True, index=True),
    Column("webhook_id", String(36)),  # null for the run's own callback_url
    Column("target_url", Text, nullable=False),
    # Who the delivery is for: the webhook's id, or "url:<callback_url>" for a run's own
    # target. Two targets that share a URL are two deliveries, each signed with its secret.
    Column("target_key", Text, nullable=False),
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
    # A redeliver asked while an attempt is in flight: queued behind it, never beside it.
    Column("requeue_requested", Boolean, nullable=False, default=False),
    UniqueConstraint("run_id", "target_key", "event_type", name="uq_delivery_run_target"),
    UniqueConstraint("zap_event_id", "target_key", name="uq_delivery_zap_event_target"),
    # One event reaches one target once, whatever its subject (operational events have none).
    UniqueConstraint("event_id", "target_key", name="uq_delivery_event_target"),
)
Index("ix_deliveries_due", deliveries.c.state, deliveries.c.next_attempt_at)
Index("ix_deliveries_webhook", deliveries.c.webhook_id, deliveries.c.created_at)
Index("ix_deliveries_created", deliveries.c.created_at, deliveries.c.id)
Index("ix_deliveries_delivered", deliveries.c.delivered_at)

# Per target (a delivery's target_key): the circuit breaker and the health the API shows.
target_health = Table(
    "target_health",
    metadata,
    Column("target_key", Text, primary_key=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("paused_until", Float),  # breaker open: no attempt before this
    Column("pauses", Integer, nullable=False, default=0),  # in a row: the cool-down doubles
    Column("last_success_at", Float),
    Column("last_success_status", Integer),
    Column("last_failure_at", Float),
    Column("last_failure_status", Integer),
    Column("last_error", Text),
    Column("failing_since", Float),  # first failure of the current run of failures
)

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
Index("ix_delivery_attempts_at", delivery_attempts.c.attempted_at)

rate_budget = Table(
    "rate_budget",
    metadata,
    # "<account>/<get|run>": each Zapier account has its own windows (its token's budget).
    Column("bucket", String(80), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    Column("used", Integer, nullable=False),
    Column("limit", Integer, nullable=False),
    Column("blocked_until", Float, nullable=False, default=0.0),
    # Grants made near a window's end, counted in the next window too (they may land there).
    Column("carried", Integer, nullable=False, default=0, server_default="0"),
    # No paced grant before this time: a backlog larger than the budget is spread out.
    Column("paced_until", Float, nullable=False, default=0.0, server_default="0"),
)


# Zap Runs watching: what to watch, every Zap run seen, and one event per (run, status).
zap_watches = Table(
    "zap_watches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False, server_default="default"),
    Column("zap_id", BigInteger),
    Column("statuses_json", Text, nullable=False, default="[]"),
    Column("search", String(150)),
    Column("webhook_ids_json", Text, nullable=False, default="[]"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("from_date", Float, nullable=False),  # the high-water mark: next scan starts here
    Column("scan_from", Float),  # the scan in progress (null: none)
    Column("scan_offset", Integer),
    Column("scan_newest", Float),
    Column("scan_oldest_open", Float),
    Column("next_poll_at", Float, nullable=False),
    Column("last_scan_at", Float),
    Column("last_error", Text),
    Column("runs_seen", Integer, nullable=False, default=0),
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_zap_watches_due", zap_watches.c.enabled, zap_watches.c.next_poll_at)

zap_runs = Table(
    "zap_runs",
    metadata,
    Column("id", String(64), primary_key=True),  # upstream's Zap run id
    Column("zap_id", BigInteger),
    Column("status", String(32), nullable=False),
    Column("zap_title", Text),
    Column("start_time", Float),
    Column("end_time", Float),
    Column("body", Text, nullable=False),  # the run as upstream last gave it
    Column("search_text", Text, nullable=False, default=""),  # title, data_in, data_out
    Column("first_seen_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_zap_runs_start", zap_runs.c.start_time, zap_runs.c.id)
Index("ix_zap_runs_zap", zap_runs.c.zap_id)
Index("ix_zap_runs_updated", zap_runs.c.updated_at)

zap_run_events = Table(
    "zap_run_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("zap_run_id", String(64), ForeignKey("zap_runs.id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("event_id", String(64), nullable=False),  # the webhook-id of every delivery
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("zap_run_id", "status", name="uq_zap_run_event"),
)

# Zapier accounts: each with its own upstream token (encrypted at rest) and budget.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),  # a slug the client chooses
    Column("token_ciphertext", Text, nullable=False),  # MultiFernet, RELAY_ENCRYPTION_KEYS
    Column("token_fingerprint", String(16), nullable=False),
    Column("budget_overrides_json", Text, nullable=False, default="{}"),
    Column("state", String(16), nullable=False),  # active | unauthorized
    Column("unauthorized_at", Float),
    Column("unauthorized_detail", Text),
    Column("last_used_at", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
