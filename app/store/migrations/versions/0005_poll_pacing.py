"""Polling that spends the budget well: paced and carried budget grants, learned durations."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rate_budget") as batch_op:
        # Grants made near a window's end, counted in the next window too (they may land there).
        batch_op.add_column(sa.Column("carried", sa.Integer(), nullable=False, server_default="0"))
        # No paced grant before this time: a backlog larger than the budget is spread out.
        batch_op.add_column(
            sa.Column("paced_until", sa.Float(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("runs") as batch_op:
        # The last poll upstream answered "still processing": a duration's lower bound.
        batch_op.add_column(sa.Column("last_pending_at", sa.Float(), nullable=True))
    # The latest runs of one stored action (or v2 action): its learned poll schedule.
    op.create_index("ix_runs_stored_action_submitted", "runs", ["stored_action_id", "submitted_at"])
    op.create_index("ix_runs_action_submitted", "runs", ["action", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_action_submitted", table_name="runs")
    op.drop_index("ix_runs_stored_action_submitted", table_name="runs")
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("last_pending_at")
    with op.batch_alter_table("rate_budget") as batch_op:
        batch_op.drop_column("paced_until")
        batch_op.drop_column("carried")
