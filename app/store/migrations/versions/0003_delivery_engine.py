"""Deliveries keyed by (event, target), queued redeliveries, per-target health, rotation."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("target_key", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("requeue_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE deliveries SET target_key = COALESCE(webhook_id, 'url:' || target_url)")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.alter_column("target_key", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("requeue_requested", server_default=None)
        batch_op.drop_constraint("uq_delivery_target", type_="unique")
        batch_op.drop_constraint("uq_delivery_zap_target", type_="unique")
        batch_op.create_unique_constraint(
            "uq_delivery_run_target", ["run_id", "target_key", "event_type"]
        )
        batch_op.create_unique_constraint(
            "uq_delivery_zap_event_target", ["zap_event_id", "target_key"]
        )
        batch_op.create_unique_constraint("uq_delivery_event_target", ["event_id", "target_key"])
        batch_op.create_index("ix_deliveries_webhook", ["webhook_id", "created_at"])
        batch_op.create_index("ix_deliveries_created", ["created_at", "id"])
    with op.batch_alter_table("webhooks") as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_until", sa.Float(), nullable=True))
    op.create_table(
        "target_health",
        sa.Column("target_key", sa.Text(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=True),
        sa.Column("pauses", sa.Integer(), nullable=False),
        sa.Column("last_success_at", sa.Float(), nullable=True),
        sa.Column("last_success_status", sa.Integer(), nullable=True),
        sa.Column("last_failure_at", sa.Float(), nullable=True),
        sa.Column("last_failure_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failing_since", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("target_key"),
    )


def downgrade() -> None:
    op.drop_table("target_health")
    with op.batch_alter_table("webhooks") as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_secret")
    # Operational events have no subject: the older schema has no place for them.
    op.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries "
        "WHERE run_id IS NULL AND zap_event_id IS NULL)"
    )
    op.execute("DELETE FROM deliveries WHERE run_id IS NULL AND zap_event_id IS NULL")
    # Targets that shared a URL collapse back into one delivery per URL: keep the first.
    op.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id FROM deliveries d "
        "WHERE EXISTS (SELECT 1 FROM deliveries o WHERE o.target_url = d.target_url "
        "AND o.event_id = d.event_id AND o.id < d.id))"
    )
    op.execute(
        "DELETE FROM deliveries WHERE EXISTS (SELECT 1 FROM deliveries o "
        "WHERE o.target_url = deliveries.target_url AND o.event_id = deliveries.event_id "
        "AND o.id < deliveries.id)"
    )
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_created")
        batch_op.drop_index("ix_deliveries_webhook")
        batch_op.drop_constraint("uq_delivery_event_target", type_="unique")
        batch_op.drop_constraint("uq_delivery_zap_event_target", type_="unique")
        batch_op.drop_constraint("uq_delivery_run_target", type_="unique")
        batch_op.create_unique_constraint("uq_delivery_zap_target", ["zap_event_id", "target_url"])
        batch_op.create_unique_constraint(
            "uq_delivery_target", ["run_id", "target_url", "event_type"]
        )
        batch_op.drop_column("requeue_requested")
        batch_op.drop_column("target_key")
