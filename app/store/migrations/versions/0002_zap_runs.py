"""Zap runs watching (watches, runs seen, status events), zap deliveries, run throttle counts."""

# Revision 0002, after 0001. Drafted from app/store/tables.py's working tree: the lead may
# replace it with their own 0002 (keep revision ids linear: one head).

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zap_watches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("zap_id", sa.BigInteger(), nullable=True),
        sa.Column("statuses_json", sa.Text(), nullable=False),
        sa.Column("search", sa.String(length=150), nullable=True),
        sa.Column("webhook_ids_json", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("from_date", sa.Float(), nullable=False),
        sa.Column("scan_from", sa.Float(), nullable=True),
        sa.Column("scan_offset", sa.Integer(), nullable=True),
        sa.Column("scan_newest", sa.Float(), nullable=True),
        sa.Column("scan_oldest_open", sa.Float(), nullable=True),
        sa.Column("next_poll_at", sa.Float(), nullable=False),
        sa.Column("last_scan_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs_seen", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_zap_watches_due", "zap_watches", ["enabled", "next_poll_at"])

    op.create_table(
        "zap_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("zap_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("zap_title", sa.Text(), nullable=True),
        sa.Column("start_time", sa.Float(), nullable=True),
        sa.Column("end_time", sa.Float(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_zap_runs_start", "zap_runs", ["start_time", "id"])
    op.create_index("ix_zap_runs_zap", "zap_runs", ["zap_id"])

    op.create_table(
        "zap_run_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("zap_run_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["zap_run_id"], ["zap_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("zap_run_id", "status", name="uq_zap_run_event"),
    )

    # A delivery's subject is a relay run or a Zap run event; on SQLite this rebuilds the table.
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("zap_event_id", sa.String(length=36), nullable=True))
        batch_op.alter_column("run_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.create_index("ix_deliveries_zap_event_id", ["zap_event_id"])
        batch_op.create_unique_constraint("uq_delivery_zap_target", ["zap_event_id", "target_url"])
        # PostgreSQL's own name for it, as create_all would have made it.
        batch_op.create_foreign_key(
            "deliveries_zap_event_id_fkey", "zap_run_events", ["zap_event_id"], ["id"]
        )

    with op.batch_alter_table("runs") as batch_op:
        # Existing runs have been throttled zero times: the server default fills them in.
        batch_op.add_column(
            sa.Column("throttle_count", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("throttle_count")

    # Zap deliveries have no run: they cannot survive run_id becoming required again.
    op.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN "
        "(SELECT id FROM deliveries WHERE run_id IS NULL)"
    )
    op.execute("DELETE FROM deliveries WHERE run_id IS NULL")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_constraint("deliveries_zap_event_id_fkey", type_="foreignkey")
        batch_op.drop_constraint("uq_delivery_zap_target", type_="unique")
        batch_op.drop_index("ix_deliveries_zap_event_id")
        batch_op.alter_column("run_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column("zap_event_id")

    op.drop_table("zap_run_events")
    op.drop_table("zap_runs")
    op.drop_table("zap_watches")
