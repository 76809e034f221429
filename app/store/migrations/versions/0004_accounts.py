"""Zapier accounts: per-account tokens (encrypted) and budgets; runs and watches name theirs."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("token_ciphertext", sa.Text(), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=16), nullable=False),
        sa.Column("budget_overrides_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("unauthorized_at", sa.Float(), nullable=True),
        sa.Column("unauthorized_detail", sa.Text(), nullable=True),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for table in ("runs", "zap_watches"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "account_id", sa.String(length=64), nullable=False, server_default="default"
                )
            )
    # Budget rows become per account: today's windows are the default account's.
    with op.batch_alter_table("rate_budget") as batch_op:
        batch_op.alter_column(
            "bucket", existing_type=sa.String(length=16), type_=sa.String(length=80)
        )
    op.execute("UPDATE rate_budget SET bucket = 'default/' || bucket")
    # Reads by time (the console's last 24 hours, retention) and runs listed by account.
    op.create_index("ix_runs_settled", "runs", ["settled_at"])
    op.create_index("ix_runs_account", "runs", ["account_id", "created_at"])
    op.create_index("ix_zap_runs_updated", "zap_runs", ["updated_at"])
    op.create_index("ix_deliveries_delivered", "deliveries", ["delivered_at"])
    op.create_index("ix_delivery_attempts_at", "delivery_attempts", ["attempted_at"])
    op.create_index("ix_upstream_calls_at", "upstream_calls", ["at"])


def downgrade() -> None:
    for name, table in (
        ("ix_upstream_calls_at", "upstream_calls"),
        ("ix_delivery_attempts_at", "delivery_attempts"),
        ("ix_deliveries_delivered", "deliveries"),
        ("ix_zap_runs_updated", "zap_runs"),
        ("ix_runs_account", "runs"),
        ("ix_runs_settled", "runs"),
    ):
        op.drop_index(name, table_name=table)
    op.execute("DELETE FROM rate_budget WHERE bucket NOT LIKE 'default/%'")
    op.execute("UPDATE rate_budget SET bucket = substr(bucket, 9)")
    with op.batch_alter_table("rate_budget") as batch_op:
        batch_op.alter_column(
            "bucket", existing_type=sa.String(length=80), type_=sa.String(length=16)
        )
    for table in ("zap_watches", "runs"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("account_id")
    op.drop_table("accounts")
